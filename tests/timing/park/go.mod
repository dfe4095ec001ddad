module park

go 1.19
