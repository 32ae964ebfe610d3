"""What producers send: seeded sample events, the Kinesis producer, and the faults the demo injects."""
