module ssvc

go 1.19
