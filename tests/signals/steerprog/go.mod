module steerprog

go 1.19
