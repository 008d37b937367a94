package audit

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metric names of the Prometheus textfile.
const (
	MetricFindings    = "abkit_findings"
	MetricCheckErrors = "abkit_check_errors"
	MetricLastRun     = "abkit_last_run_timestamp_seconds"
)

// writeProm writes rep as a Prometheus textfile (for the node exporter's textfile collector) at
// path, through a temporary file renamed into place. abkit_findings{check} is present only for
// checks that ran; abkit_check_errors{check} is 1 for a check that could not run, else 0.
func writeProm(path string, rep *Report) error {
	reg := prometheus.NewRegistry()
	findingsVec := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: MetricFindings,
		Help: "Findings of the last abkit audit run, per check.",
	}, []string{"check"})
	errorsVec := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: MetricCheckErrors,
		Help: "1 when the check could not run in the last abkit audit run, else 0.",
	}, []string{"check"})
	lastRun := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: MetricLastRun,
		Help: "Start time of the last abkit audit run, in seconds since the Unix epoch.",
	})
	reg.MustRegister(findingsVec, errorsVec, lastRun)
	for _, c := range rep.Checks {
		if c.Failed() {
			errorsVec.WithLabelValues(c.Name).Set(1)
			continue
		}
		errorsVec.WithLabelValues(c.Name).Set(0)
		findingsVec.WithLabelValues(c.Name).Set(float64(c.Count))
	}
	lastRun.Set(float64(rep.Time.UnixNano()) / 1e9)
	return prometheus.WriteToTextfile(path, reg)
}
