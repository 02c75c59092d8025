package natsjs_test

func runFleetChild() bool { return false }
