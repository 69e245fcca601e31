// Command tactd is the tact daemon.
package main

func main() {}
