// The NATS client arrives here (issue 6).
