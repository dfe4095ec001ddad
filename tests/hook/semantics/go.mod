module hooksemantics

go 1.19
