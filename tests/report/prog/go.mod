module golat.test/report

go 1.19
