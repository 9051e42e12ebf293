// Uses an installed tinyloop from C++: reads a checkpoint through the platform interface and
// prints the model's prediction at each position of the tokens given on the command line.
//   consumer_cpp MODEL.tlc TOKEN...
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <tinyloop/checkpoint.hpp>
#include <tinyloop/inference.hpp>
#include <tinyloop/platform/posix.hpp>

int main(int argc, char** argv) {
  namespace tp = tinyloop::platform;
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL.tlc TOKEN...\n", argv[0]);
    return 2;
  }
  const tp::Platform os = tp::posix_platform();
  std::size_t size = 0;
  os.read_file(os.user, argv[1], nullptr, 0, &size);  // capacity 0: asks for the size
  std::vector<std::uint8_t> bytes(size);
  tinyloop::Status s = os.read_file(os.user, argv[1], bytes.data(), bytes.size(), &size);
  tinyloop::CheckpointHeader h;
  if (s) s = tinyloop::checkpoint_read_header(bytes.data(), size, &h);
  std::vector<float> weights(h.param_count);
  if (s) s = tinyloop::checkpoint_read_tensors(bytes.data(), size, weights.data(), nullptr, nullptr);

  std::vector<std::int32_t> tokens, predictions(std::size_t(argc - 2));
  for (int i = 2; i < argc; ++i) tokens.push_back(std::atoi(argv[i]));
  const int len = int(tokens.size());
  std::vector<unsigned char> memory(tinyloop::Inference::plan(h.config.model, len).total);
  tinyloop::Inference model;
  if (s) s = model.init(h.config.model, len, memory.data(), memory.size());
  if (s) s = model.load_params(weights.data(), weights.size());
  tinyloop::InferOutputs out;
  out.predictions = predictions.data();
  if (s) s = model.run(tokens.data(), len, out);
  if (!s) {
    tp::logf(os, tp::LogLevel::error, "%s", s.message());
    return 1;
  }
  for (int i = 0; i < len; ++i) std::printf("%d%s", int(predictions[std::size_t(i)]), i + 1 < len ? " " : "\n");
  return 0;
}
