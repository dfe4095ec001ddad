module cli

go 1.19
