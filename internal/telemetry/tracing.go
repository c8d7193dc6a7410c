package telemetry

import (
	"context"
	"fmt"
	"os"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// TracingRequested reports whether the environment asks for traces, by the
// OpenTelemetry convention: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
// OTEL_EXPORTER_OTLP_ENDPOINT set, and OTEL_TRACES_EXPORTER not "none".
func TracingRequested() bool {
	if os.Getenv("OTEL_TRACES_EXPORTER") == "none" {
		return false
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != ""
}

// StartTracing installs, when TracingRequested, a global tracer provider
// that sends spans in batches over OTLP/HTTP to the configured endpoint
// (the exporter reads the other OTEL_EXPORTER_OTLP_* variables: headers,
// timeout, TLS; sampling follows OTEL_TRACES_SAMPLER, by default every
// trace). Otherwise spans stay no-ops and it returns a shutdown that does
// nothing. shutdown sends what is buffered: call it on the way out.
func StartTracing(ctx context.Context, serviceName string) (shutdown func(context.Context) error, err error) {
	if !TracingRequested() {
		return func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("telemetry: OTLP trace exporter: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", serviceName))))
	otel.SetTracerProvider(tp)
	return tp.Shutdown, nil
}
