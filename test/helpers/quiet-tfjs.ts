import * as tf from '@tensorflow/tfjs-core';

// tfjs's cpu backend prints an advert for tfjs-node (which cannot install here) in every test
// process; production mode silences it, as selectBackend does for the CLI.
tf.enableProdMode();
