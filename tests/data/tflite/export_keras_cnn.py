"""Writes keras_cnn_int8io.tflite and keras_cnn_floatio.tflite: a small Keras CNN exported by
TensorFlow's own converter with full-integer quantisation, as users export theirs, so the importer
is tested on a file edgehost did not write (TFLite's op choices, e.g. Keras' Flatten as SHAPE ->
STRIDED_SLICE -> PACK -> RESHAPE, and its quantisation parameters). Made with tensorflow-cpu
2.21.0 in a separate venv (TensorFlow is not a test dependency):

    python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu==2.21.0
    /tmp/tfvenv/bin/python tests/data/tflite/export_keras_cnn.py

The network: 12x12x3 -> Conv2D 8 3x3 same ReLU -> DepthwiseConv2D 3x3 stride 2 same x2 ReLU ->
MaxPooling2D 2 -> Conv2D 6 1x1 ReLU6 -> AveragePooling2D 3 stride 2 same -> Flatten -> Dense 5 ->
Softmax, trained 3 epochs on a synthetic task (seed 0); the representative dataset is 200 of its
inputs. int8io: int8 input and output; floatio: float32 in and out (QUANTIZE / DEQUANTIZE).
A rerun writes an equivalent model, not necessarily the same bytes (TensorFlow's training); the tests
do not depend on the exact weights."""
from pathlib import Path

import numpy as np
import tensorflow as tf

HERE = Path(__file__).parent
rng = np.random.default_rng(0)
X = rng.normal(size=(2000, 12, 12, 3)).astype(np.float32)
y = np.argmax(X.reshape(len(X), -1) @ rng.normal(size=(12 * 12 * 3, 5)), axis=1)
L = tf.keras.layers
m = tf.keras.Sequential([tf.keras.Input((12, 12, 3)),
                         L.Conv2D(8, 3, padding="same", activation="relu"),
                         L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2, activation="relu"),
                         L.MaxPooling2D(2),
                         L.Conv2D(6, 1, activation="relu6"),
                         L.AveragePooling2D(3, strides=2, padding="same"),
                         L.Flatten(), L.Dense(5), L.Softmax()])
m.compile("adam", "sparse_categorical_crossentropy")
m.fit(X, y, epochs=3, batch_size=64, verbose=0)


def rep():
    for i in range(200):
        yield [X[i:i + 1]]


for io in ("int8", "float"):
    c = tf.lite.TFLiteConverter.from_keras_model(m)
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = rep
    c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if io == "int8":
        c.inference_input_type = tf.int8
        c.inference_output_type = tf.int8
    (HERE / f"keras_cnn_{io}io.tflite").write_bytes(c.convert())
