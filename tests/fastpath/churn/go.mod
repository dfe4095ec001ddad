module churntest

go 1.19
