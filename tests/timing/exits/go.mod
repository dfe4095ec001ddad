module exits

go 1.19
