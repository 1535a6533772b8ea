"""The seeds' Keras code, run with only its import lines changed (issue: "It speaks Keras").

Each test body is the seed's code as printed in ../shared/seeds/, with ``keras`` /
``tensorflow.keras`` imports replaced by faltung's, on a few random images so the
suite stays quick. The golden values are the seeds' own: the parameter counts of
their ``summary()`` tables and the shapes they print.
"""
from functools import partial

import numpy as np

import faltung as keras  # seed 001: `keras.layers...`, `keras.models.Sequential`


def _images(n, h, w, c, seed=0):
    r = np.random.default_rng(seed)
    return r.integers(0, 256, (n, h, w, c)).astype("float32") / 255, r.integers(0, 10, n)


def test_seed_000_mnist_cnn_code_runs():
    # seed 000, "Codebeispiel in Python mit Tensorflow anhand von MNIST"
    from faltung import Sequential
    from faltung.layers import Conv2D, Dense, Flatten, MaxPooling2D
    from faltung.utils import to_categorical

    model = Sequential()
    model.add(Conv2D(128, kernel_size=(3, 3), activation="relu", input_shape=(28, 28, 1)))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Conv2D(128, kernel_size=(3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Flatten())
    model.add(Dense(128, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])

    x, labels = _images(16, 28, 28, 1)
    y_train = to_categorical(labels, 10)
    history = model.fit(x.reshape(16, 28, 28, 1), y_train, epochs=2, batch_size=8, verbose=0)
    assert model.count_params() == 559_882
    assert set(history.history) == {"loss", "accuracy"} and len(history.history["loss"]) == 2


def test_seed_001_lenet5_code_runs():
    # seed 001, "Keras Implementierung des LeNet-5 CNNs"
    from faltung.models import Sequential
    from faltung.layers import AveragePooling2D, Conv2D, Dense, Flatten

    model = Sequential([
        Conv2D(filters=6, kernel_size=(5, 5), activation='tanh', input_shape=(32, 32, 1), padding='valid'),
        AveragePooling2D(pool_size=(2, 2), strides=2),
        Conv2D(filters=16, kernel_size=(5, 5), activation='tanh', padding='valid'),
        AveragePooling2D(pool_size=(2, 2), strides=2),
        Conv2D(filters=120, kernel_size=(5, 5), activation='tanh', padding='valid'),
        Flatten(),
        Dense(units=84, activation='tanh'),
        Dense(units=10, activation='softmax')])
    assert model.count_params() == 61_706
    assert model.layers[4].output_shape == (None, 1, 1, 120)  # "nur noch 1-dimensional"


def test_seed_001_fashion_cnn_code_runs():
    # seed 001, "Implementierung einer CNN-Architektur für das MNIST-Fashion Klassifizierungsproblem"
    DefaultConv2D = partial(keras.layers.Conv2D,
                            kernel_size=3, activation='relu', padding="SAME")

    model = keras.models.Sequential([
        DefaultConv2D(filters=64, kernel_size=7, input_shape=[28, 28, 1]),
        keras.layers.MaxPooling2D(pool_size=2),
        DefaultConv2D(filters=128),
        DefaultConv2D(filters=128),
        keras.layers.MaxPooling2D(pool_size=2),
        DefaultConv2D(filters=256),
        DefaultConv2D(filters=256),
        keras.layers.MaxPooling2D(pool_size=2),
        keras.layers.Flatten(),
        keras.layers.Dense(units=128, activation='relu'),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(units=64, activation='relu'),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(units=10, activation='softmax'),
    ])
    # the seed's summary table, row by row
    assert [layer.count_params() for layer in model.layers] == [
        3200, 0, 73856, 147584, 0, 295168, 590080, 0, 0, 295040, 0, 8256, 0, 650]
    assert model.count_params() == 1_413_834
    assert model.get_layer("max_pooling2d_2").output_shape == (None, 3, 3, 256)

    model.compile(loss="sparse_categorical_crossentropy", optimizer="nadam", metrics=["accuracy"])
    X_train, y_train = _images(8, 28, 28, 1)
    X_valid, y_valid = _images(4, 28, 28, 1, seed=1)
    history = model.fit(X_train, y_train, epochs=1, validation_data=(X_valid, y_valid), verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    loss, acc = model.evaluate(X_valid, y_valid, verbose=0)
    assert np.isfinite(loss) and 0 <= acc <= 1
    y_proba = model.predict(X_valid[:3], verbose=0)
    assert y_proba.shape == (3, 10) and y_proba.dtype == np.float32
    np.testing.assert_allclose(y_proba.sum(axis=1), 1, rtol=1e-5)


def test_seed_002_rescaling_model_with_logits_runs():
    # seed 002, the Rescaling model with `Dense(num_classes)` (logits)
    from faltung import Sequential, layers, losses
    img_height, img_width, num_classes = 24, 24, 5

    model = Sequential([
        layers.Rescaling(1./255, input_shape=(img_height, img_width, 3)),
        layers.Conv2D(16, 3, padding='same', activation='relu'),
        layers.MaxPooling2D(),
        layers.Conv2D(32, 3, padding='same', activation='relu'),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding='same', activation='relu'),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(128, activation='relu'),
        layers.Dense(num_classes)
    ])
    model.compile(optimizer='adam',
                  loss=losses.SparseCategoricalCrossentropy(from_logits=True), metrics=['accuracy'])
    r = np.random.default_rng(0)
    x = r.integers(0, 256, (6, img_height, img_width, 3)).astype(np.uint8)
    y = r.integers(0, num_classes, 6)
    first = model.train_on_batch(x, y)
    for _ in range(15):
        last = model.train_on_batch(x, y)
    assert last[0] < first[0]  # it learns the six images


def test_seed_004_cifar_code_runs():
    # seed 004, the CIFAR-10 notebook: model, compile, fit_generator with ImageDataGenerator
    from faltung.models import Sequential
    from faltung.layers import Conv2D, MaxPooling2D
    from faltung.layers import Dense, Dropout, Flatten
    from faltung.preprocessing.image import ImageDataGenerator
    from faltung.utils import to_categorical, normalize
    import faltung

    x_train, y_train = _images(12, 32, 32, 3)
    x_train = normalize(x_train, axis=1)
    y_train_one_hot = to_categorical(y_train.reshape(-1, 1))
    assert y_train_one_hot.shape == (12, 10)
    datagen = ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.1, zoom_range=0.1,
                                 rotation_range=30, horizontal_flip=True)
    datagen.fit(x_train)
    train_generator = datagen.flow(x_train, y_train_one_hot, shuffle=True)

    my_model = Sequential()
    my_model.add(Conv2D(32, (3, 3), padding="same", activation='relu',
                        input_shape=x_train.shape[1:]))
    my_model.add(Conv2D(32, (3, 3), padding="same", activation='relu'))
    my_model.add(MaxPooling2D(pool_size=(2, 2)))
    my_model.add(Conv2D(64, (3, 3), padding="same", activation='relu'))
    my_model.add(Conv2D(64, (3, 3), padding="same", activation='relu'))
    my_model.add(MaxPooling2D(pool_size=(2, 2)))
    my_model.add(Conv2D(128, (3, 3), padding="same", activation='relu'))
    my_model.add(Conv2D(128, (3, 3), padding="same", activation='relu'))
    my_model.add(MaxPooling2D(pool_size=(2, 2)))
    my_model.add(Flatten())
    my_model.add(Dropout(0.5))
    my_model.add(Dense(128, activation='relu'))
    my_model.add(Dense(64, activation='relu'))
    my_model.add(Dense(10, activation='softmax'))
    assert my_model.count_params() == 558_186

    my_model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['acc'])
    history = my_model.fit_generator(train_generator, epochs=1, verbose=0,
                                     validation_data=(x_train[:4], y_train_one_hot[:4]))
    # plot_compare in seed 004 reads these keys
    for key in ("acc", "val_acc", "loss", "val_loss"):
        assert len(history.history[key]) == 1
    test_eval = my_model.evaluate(x_train[:4], y_train_one_hot[:4], verbose=0)
    assert len(test_eval) == 2
    predicted_classes = np.argmax(np.round(my_model.predict(x_train[:4], verbose=0)), axis=1)
    assert predicted_classes.shape == (4,)

    # "Visualisierung der Feature maps": every layer's activations through a Model
    activation_model = faltung.Model(inputs=my_model.inputs,
                                     outputs=[layer.output for layer in my_model.layers])
    activations = activation_model.predict(x_train[:1], verbose=0)
    assert [a.shape[1:] for a in activations[:3]] == [(32, 32, 32), (32, 32, 32), (16, 16, 32)]


def test_seed_003_tf_graph_network_as_functional_model():
    # seed 003 builds this network with tf.layers (TF1 graph code); the same network in
    # faltung's functional API must give its shapes: conv2 with strides=2, padding='SAME'
    # halves 28 -> 14, the VALID 2x2 max pool gives 7x7x64 = "64 * 7 * 7" for the reshape.
    from faltung import Input, Model, layers
    X_reshaped = Input(shape=(28, 28, 1))
    conv1 = layers.Conv2D(filters=32, kernel_size=3, strides=1, padding='SAME',
                          activation="relu", name="conv1")(X_reshaped)
    conv2 = layers.Conv2D(filters=64, kernel_size=3, strides=2, padding='SAME',
                          activation="relu", name="conv2")(conv1)
    pool3 = layers.MaxPooling2D(pool_size=2, strides=2, padding="VALID")(conv2)
    pool3_flat = layers.Reshape((64 * 7 * 7,))(pool3)
    fc1 = layers.Dense(64, activation="relu", name="fc1")(pool3_flat)
    logits = layers.Dense(10, name="output")(fc1)
    model = Model(X_reshaped, logits)
    assert model.get_layer("conv2").output_shape == (None, 14, 14, 64)
    assert pool3.shape == (None, 7, 7, 64)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    x, y = _images(4, 28, 28, 1)
    loss, acc = model.evaluate(x, y, verbose=0)
    assert np.isfinite(loss)
