module hookstdlib

go 1.19
