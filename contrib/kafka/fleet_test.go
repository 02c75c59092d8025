package antskafka_test

func runFleetChild() bool { return false }
