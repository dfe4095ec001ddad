//go:build cgo

package main

// Importing C makes the binary dynamically linked, as golat needs.

// #include <unistd.h>
import "C"
