package main

import (
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/orgcredit/orgcredit/internal/metrics"
)

// The service's own metrics come from the functions' logs (CloudWatch's
// Embedded Metric Format), under the names internal/metrics defines, so the
// functions and these graphs and alarms cannot drift apart. Every metric
// carries the Function dimension; Refusals also comes by Function and
// Rule, SlackLatency by Function and Kind.

// period is the granularity of every alarm and graph.
const period = 5 * time.Minute

// Alarm thresholds, asserted by the tests.
const (
	// unavailableThreshold: a 503 is a request DynamoDB kept refusing
	// after the store's jittered retries. A hot organization is answered
	// 429 before that, so even one means DynamoDB is failing.
	unavailableThreshold = 1

	// notifierFailureThreshold in notifierFailurePeriod: a send is
	// retried, so one failure (a Slack hiccup, a rate limit) is no alarm,
	// but the stream retries a failing batch within minutes, so a
	// persistent cause (a revoked bot token, Slack down) crosses it fast.
	notifierFailureThreshold = 3
	notifierFailurePeriod    = 15 * time.Minute

	// iteratorAgeThreshold: the notifier is this far behind the table's
	// stream. Alerts about the balance are late by as much; records older
	// than notifierMaxRecordAgeHours are dropped. Retrying and bisecting
	// one bad batch takes a few minutes, never this long.
	iteratorAgeThreshold = 15 * time.Minute
)

// appMetric is one of the functions' own metrics, for the named function.
// A label names it in a graph's legend; alarms take it without one (a
// labelled metric would turn the alarm into a metric-math one).
func appMetric(name, function, statistic, label string, dims map[string]string) awscloudwatch.Metric {
	dimensions := map[string]*string{metrics.DimFunction: jsii.String(function)}
	for k, v := range dims {
		dimensions[k] = jsii.String(v)
	}
	var l *string
	if label != "" {
		l = jsii.String(label)
	}
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(metrics.Namespace),
		MetricName:    jsii.String(name),
		DimensionsMap: &dimensions,
		Statistic:     jsii.String(statistic),
		Label:         l,
		Period:        duration(period),
	})
}

func duration(d time.Duration) awscdk.Duration {
	return awscdk.Duration_Seconds(jsii.Number(d.Seconds()))
}

// unavailableFunctions answer requests and so may answer 503.
var unavailableFunctions = []string{metrics.FunctionUsage, metrics.FunctionAdmin, metrics.FunctionSlack}

// iteratorAge is how far behind the table's stream the notifier is, at
// worst over a period (milliseconds).
func iteratorAge(notifier awslambda.Function) awscloudwatch.Metric {
	return notifier.Metric(jsii.String("IteratorAge"), &awscloudwatch.MetricOptions{
		Statistic: awscloudwatch.Stats_MAXIMUM(),
		Period:    duration(period),
	})
}

// newAlarms raises an alarm on every failure an operator must act on. Each
// notifies the SNS topic when one is given.
func newAlarms(stack awscdk.Stack, topicARN string, fns map[string]awslambda.Function, api awsapigatewayv2.HttpApi, failures awssqs.Queue) []awscloudwatch.Alarm {
	var action awscloudwatch.IAlarmAction
	if topicARN != "" {
		topic := awssns.Topic_FromTopicArn(stack, jsii.String("AlarmTopic"), jsii.String(topicARN))
		action = awscloudwatchactions.NewSnsAction(topic)
	}
	var alarms []awscloudwatch.Alarm
	alarm := func(id, desc string, metric awscloudwatch.IMetric, threshold float64, op awscloudwatch.ComparisonOperator) {
		a := awscloudwatch.NewAlarm(stack, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(desc),
			Metric:             metric,
			Threshold:          jsii.Number(threshold),
			ComparisonOperator: op,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		if action != nil {
			a.AddAlarmAction(action)
		}
		alarms = append(alarms, a)
	}
	fiveMinutes := &awscloudwatch.MetricOptions{Period: duration(period)}
	atLeast := awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD
	for _, spec := range functions {
		fn := fns[spec.Name]
		alarm(spec.Name+"Errors", "The "+spec.Name+" function failed (crash, timeout or returned error)",
			fn.MetricErrors(fiveMinutes), 1, atLeast)
		alarm(spec.Name+"Throttles", "The "+spec.Name+" function was throttled (its reserved concurrency or the account's exhausted)",
			fn.MetricThrottles(fiveMinutes), 1, atLeast)
	}
	alarm("NotifierFailuresVisible", "Stream records the notifier gave up on: alerts were not sent",
		failures.MetricApproximateNumberOfMessagesVisible(fiveMinutes), 0,
		awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD)
	// A few 5xx are expected (503 with Retry-After when DynamoDB stays
	// throttled); a burst means the service is failing agents.
	alarm("Api5xx", "The HTTP API answered 5xx repeatedly",
		api.MetricServerError(fiveMinutes), 5, atLeast)

	for _, fn := range unavailableFunctions {
		alarm(fn+"Unavailable", fmt.Sprintf("The %s function answered 503: DynamoDB kept failing after retries "+
			"(see DynamoDB retries on the dashboard)", fn),
			appMetric(metrics.Unavailable, fn, *awscloudwatch.Stats_SUM(), "", nil), unavailableThreshold, atLeast)
	}
	sendFailures := appMetric(metrics.NotifierFailures, metrics.FunctionNotifier, *awscloudwatch.Stats_SUM(), "", nil).
		With(&awscloudwatch.MetricOptions{Period: duration(notifierFailurePeriod)})
	alarm("NotifierSendFailures", "The notifier keeps failing to send Slack messages (bot token, Slack outage): "+
		"Billing holders are not being told about their balance", sendFailures, notifierFailureThreshold, atLeast)
	alarm("NotifierIteratorAge", "The notifier is behind the table's stream: balance alerts are late, "+
		"and records older than the mapping's maximum age are dropped unsent",
		iteratorAge(fns[metrics.FunctionNotifier]), float64(iteratorAgeThreshold.Milliseconds()), atLeast)
	return alarms
}

// newDashboard shows the service at work: debits, refusals, DynamoDB's
// pressure, what agents were answered, Slack's latency against its 3 s
// bound, the notifier, and the functions and API as Lambda and API
// Gateway see them. It is named after the stack.
func newDashboard(stack awscdk.Stack, fns map[string]awslambda.Function, api awsapigatewayv2.HttpApi, alarms []awscloudwatch.Alarm) awscloudwatch.Dashboard {
	sum := *awscloudwatch.Stats_SUM()
	graph := func(title string, left []awscloudwatch.IMetric, annotations ...*awscloudwatch.HorizontalAnnotation) awscloudwatch.IWidget {
		var ann *[]*awscloudwatch.HorizontalAnnotation
		if len(annotations) > 0 {
			ann = &annotations
		}
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title:           jsii.String(title),
			Left:            &left,
			LeftAnnotations: ann,
			Width:           jsii.Number(8),
			Height:          jsii.Number(6),
		})
	}
	perFunction := func(names []string, metric func(fn string) awscloudwatch.IMetric) []awscloudwatch.IMetric {
		var out []awscloudwatch.IMetric
		for _, fn := range names {
			out = append(out, metric(fn))
		}
		return out
	}
	all := functionNames()

	var alarmRefs []interfacesawscloudwatch.IAlarmRef
	for _, a := range alarms {
		alarmRefs = append(alarmRefs, a)
	}

	usage := metrics.FunctionUsage
	var slackLatency []awscloudwatch.IMetric
	for _, kind := range []string{metrics.KindCommand, metrics.KindInteraction, metrics.KindEvent} {
		for _, p := range []string{"p50", "p99"} {
			slackLatency = append(slackLatency, appMetric(metrics.SlackLatency, metrics.FunctionSlack, p,
				kind+" "+p, map[string]string{metrics.DimKind: kind}))
		}
	}
	var lambdaHealth []awscloudwatch.IMetric
	for _, fn := range all {
		lambdaHealth = append(lambdaHealth,
			fns[fn].MetricErrors(&awscloudwatch.MetricOptions{Period: duration(period), Label: jsii.String(fn + " errors")}),
			fns[fn].MetricThrottles(&awscloudwatch.MetricOptions{Period: duration(period), Label: jsii.String(fn + " throttles")}))
	}

	dashboard := awscloudwatch.NewDashboard(stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName:   stack.StackName(),
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(24)),
	})
	dashboard.AddWidgets(awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
		Title:  jsii.String("Alarms"),
		Alarms: &alarmRefs,
		Width:  jsii.Number(24),
		Height: jsii.Number(4),
	}))
	dashboard.AddWidgets(
		graph("Debits and duplicates", []awscloudwatch.IMetric{
			appMetric(metrics.Debits, usage, sum, "debits", nil),
			appMetric(metrics.Duplicates, usage, sum, "duplicates", nil),
		}),
		graph("Debited micro-credits", []awscloudwatch.IMetric{
			appMetric(metrics.DebitedMicros, usage, sum, "µcr debited", nil),
		}),
		// Rules are the domain's to add; a search shows each one that
		// occurred, from any function.
		graph("Refusals by rule", []awscloudwatch.IMetric{
			awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
				Expression: jsii.String(fmt.Sprintf(`SEARCH('{%s,%s,%s} MetricName="%s"', 'Sum', %d)`,
					metrics.Namespace, metrics.DimFunction, metrics.DimRule, metrics.Refusals, int(period.Seconds()))),
				Label:  jsii.String(""),
				Period: duration(period),
			}),
		}),
	)
	dashboard.AddWidgets(
		graph("DynamoDB retries", perFunction(all, func(fn string) awscloudwatch.IMetric {
			return appMetric(metrics.DynamoDBRetries, fn, sum, fn, nil)
		})),
		graph("503 Unavailable and 429 Throttled answers", append(
			perFunction(unavailableFunctions, func(fn string) awscloudwatch.IMetric {
				return appMetric(metrics.Unavailable, fn, sum, fn+" 503", nil)
			}),
			appMetric(metrics.Throttled, usage, sum, "usage 429", nil),
		), &awscloudwatch.HorizontalAnnotation{Value: jsii.Number(unavailableThreshold), Label: jsii.String("503 alarm")}),
		graph("Slack latency (ms), p50 and p99 by kind", slackLatency,
			&awscloudwatch.HorizontalAnnotation{Value: jsii.Number(3000), Label: jsii.String("Slack gives up")}),
	)
	dashboard.AddWidgets(
		graph("Notifier deliveries and failures", []awscloudwatch.IMetric{
			appMetric(metrics.NotifierDeliveries, metrics.FunctionNotifier, sum, "delivered", nil),
			appMetric(metrics.NotifierFailures, metrics.FunctionNotifier, sum, "failed", nil),
		}),
		graph("Notifier stream iterator age (ms, max)", []awscloudwatch.IMetric{iteratorAge(fns[metrics.FunctionNotifier])},
			&awscloudwatch.HorizontalAnnotation{Value: jsii.Number(float64(iteratorAgeThreshold.Milliseconds())), Label: jsii.String("alarm")}),
		graph("Lambda errors and throttles", lambdaHealth),
	)
	dashboard.AddWidgets(
		graph("HTTP API requests, 4xx (429 included) and 5xx", []awscloudwatch.IMetric{
			api.MetricCount(&awscloudwatch.MetricOptions{Period: duration(period), Label: jsii.String("requests")}),
			api.MetricClientError(&awscloudwatch.MetricOptions{Period: duration(period), Label: jsii.String("4xx")}),
			api.MetricServerError(&awscloudwatch.MetricOptions{Period: duration(period), Label: jsii.String("5xx")}),
		}),
		graph("Concurrent executions (max)", perFunction(all, func(fn string) awscloudwatch.IMetric {
			return fns[fn].Metric(jsii.String("ConcurrentExecutions"), &awscloudwatch.MetricOptions{
				Statistic: awscloudwatch.Stats_MAXIMUM(),
				Period:    duration(period),
				Label:     jsii.String(fn),
			})
		})),
	)
	return dashboard
}
