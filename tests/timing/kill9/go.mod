module kill9

go 1.19
