module crossgo

go 1.19
