/** The one error type of lib/metrics: bad input or an undefined metric (e.g. one class present). */
export class MetricError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MetricError";
  }
}
