module preloadprog

go 1.19
