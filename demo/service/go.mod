module golat.demo/service

go 1.19
