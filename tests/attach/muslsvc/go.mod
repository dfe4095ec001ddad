module muslsvc

go 1.19
