module badinput

go 1.19
