# Embeds the page into golat (serve_page.h): cmake -DIN=index.html -DOUT=page_html.c -P embed.cmake
# writes serve_page_html[] (NUL-terminated) and serve_page_html_len, so that the page needs
# no file beside the binary and no network.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}.tmp" "/* Generated from tools/page/index.html by tools/page/embed.cmake. */\n#include <stddef.h>\n"
  "const char serve_page_html[] = {\n${bytes}0x00};\nconst size_t serve_page_html_len = ${len};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
