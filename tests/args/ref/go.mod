module golat.test/argsref

go 1.19
