module interval

go 1.19
