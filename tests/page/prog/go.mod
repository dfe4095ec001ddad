module golat.test/page

go 1.19
