// What the Logs page asks the Traces page to open (a log line's trace), and
// the baseline a trace is compared with.

class TelemetryNav {
  /** A trace to open when the Traces page shows next. */
  openTrace = $state<string | null>(null);
  /** The trace chosen as the comparison's baseline. */
  baseline = $state<string | null>(null);
}

export const telemetryNav = new TelemetryNav();
