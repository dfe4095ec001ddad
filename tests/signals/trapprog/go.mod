module trapprog

go 1.19
