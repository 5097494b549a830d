// Command verify is the verify function of the route table.
package main

import (
	"bandarchive/functions/verify/verify"
	"bandarchive/shared/app"
	"bandarchive/shared/routes"
)

func main() { app.Main(routes.Verify, verify.New) }
