"""A run as an ONNX Runtime model folder: the graph, its int8 variant and the parity check."""
