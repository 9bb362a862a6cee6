// Command infra is the CDK app that deploys the organization credit pool:
// `cdk synth` and `cdk deploy` run it through cdk.json at the repository
// root. It builds the functions itself (Go must be installed) unless
// prebuilt binaries are named with `-c assetDir=dist`.
package main

import (
	"fmt"
	"math"
	"os"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// stackName is the CloudFormation stack's name.
const stackName = "OrgCredit"

func main() {
	defer jsii.Close()

	app := awscdk.NewApp(nil)
	props, err := propsFromContext(app)
	if err == nil {
		_, err = NewStack(app, stackName, props)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// AWS Solutions checks run on every synth: a finding is an error
	// annotation, which makes `cdk synth` and `cdk deploy` fail.
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	app.Synth(nil)
}

// propsFromContext reads the stack's settings from the CDK context
// (cdk.json or `-c key=value`), with the defaults applied.
func propsFromContext(app awscdk.App) (*StackProps, error) {
	slack, err := contextCount(app, "slackReservedConcurrency", defaultSlackReservedConcurrency)
	if err != nil {
		return nil, err
	}
	usage, err := contextCount(app, "usageReservedConcurrency", defaultUsageReservedConcurrency)
	if err != nil {
		return nil, err
	}
	return &StackProps{
		StackProps: awscdk.StackProps{
			Description: jsii.String("Organization credit pool and the Billing role"),
		},
		AssetDir:                 contextString(app, "assetDir", ""),
		TransferTTL:              contextString(app, "transferTTL", ""),
		AlarmTopicARN:            contextString(app, "alarmTopicArn", ""),
		SlackReservedConcurrency: slack,
		UsageReservedConcurrency: usage,
	}, nil
}

// contextString reads a string context value.
func contextString(app awscdk.App, key, def string) string {
	if v, ok := app.Node().TryGetContext(jsii.String(key)).(string); ok && v != "" {
		return v
	}
	return def
}

// contextCount reads a whole number, zero or more, from the context: a
// string from `-c key=value`, a number from cdk.json.
func contextCount(app awscdk.App, key string, def int) (int, error) {
	var n float64
	switch v := app.Node().TryGetContext(jsii.String(key)).(type) {
	case nil:
		return def, nil
	case float64:
		n = v
	case string:
		i, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("infra: context %s=%q is not a whole number", key, v)
		}
		n = float64(i)
	default:
		return 0, fmt.Errorf("infra: context %s=%v is not a whole number", key, v)
	}
	if n < 0 || n != math.Trunc(n) || n > math.MaxInt32 {
		return 0, fmt.Errorf("infra: context %s=%v must be a whole number, 0 or more", key, n)
	}
	return int(n), nil
}
