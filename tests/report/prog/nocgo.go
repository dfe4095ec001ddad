//go:build !cgo

package main

func cgoCheck() int { return 42 }
