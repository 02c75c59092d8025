module github.com/antspool/ants

go 1.25
