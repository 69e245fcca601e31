// Command nocompile does not compile, for TestBuild.
package main

func main() { undefinedFunction() }
