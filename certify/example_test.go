package certify_test

import (
	"fmt"

	"github.com/sqlshadow/sqlshadow/certify"
)

// A recipe file with ${KEY} parameters, and what a mistake in it reports.
func ExampleParseRecipe() {
	text := `name: restart-shadow
primary: ${primary}
shadow: ${shadow}
user: certify
targets:
  shadow: {start: "${shadow_start}", stop: "${shadow_stop}"}
steps:
  - workload: {duration: "${duration:-60s}", clients: 4}
  - {at: 15s, window: 20s, chaos: {action: restart, target: shadow}}
`
	params := map[string]string{"primary": "10.0.0.1:3306", "shadow": "10.0.0.2:3306",
		"shadow_start": "systemctl start mariadb", "shadow_stop": "systemctl stop mariadb"}
	r, err := certify.ParseRecipe([]byte(text), "restart-shadow.yaml", params)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Shadow, r.Steps[0].Workload.Duration, r.Steps[1].Chaos.Action, r.Steps[1].Window)

	_, err = certify.ParseRecipe([]byte(text+"  - {at: 30s, chaos: {action: reboot, target: shadow}}\n"), "restart-shadow.yaml", params)
	fmt.Println(err)
	// Output:
	// 10.0.0.2:3306 1m0s restart 20s
	// certify: restart-shadow.yaml:10: steps[2].chaos.action: "reboot" is not restart or kill
}
