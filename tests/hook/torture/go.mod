module hooktorture

go 1.19
