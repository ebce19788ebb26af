// The subcommands of the `smoothcuda` binary; each returns the process exit code.
#pragma once

namespace sc::app {

int eval_command(int argc, char** argv);  // argv[1] == "eval"
int info_command(int argc, char** argv);
int convert_command(int argc, char** argv);
int certify_command(int argc, char** argv);
int predict_command(int argc, char** argv);
int analyze_command(int argc, char** argv);
int merge_command(int argc, char** argv);
int visualize_command(int argc, char** argv);
int denoise_command(int argc, char** argv);
int sample_command(int argc, char** argv);
int bench_certify_command(int argc, char** argv);
int agreement_command(int argc, char** argv);
int ood_command(int argc, char** argv);
int attack_command(int argc, char** argv);
int train_command(int argc, char** argv);
int train_denoiser_command(int argc, char** argv);

}  // namespace sc::app
