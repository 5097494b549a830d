// Command scores is the scores function of the route table.
package main

import (
	"bandarchive/functions/scores/scores"
	"bandarchive/shared/app"
	"bandarchive/shared/routes"
)

func main() { app.Main(routes.Scores, scores.New) }
