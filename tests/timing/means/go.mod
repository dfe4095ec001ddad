module means

go 1.19
