#!/usr/bin/env Rscript
# Reference table from R's mclust for the bootstrap of a fitted mixture, so
# that emix's tests can compare emix.bootstrap with MclustBootstrap without R.
#
# Regenerate (from the repository root; writes next to this script):
#
#   Rscript --vanilla tests/reference/mclust/make_bootstrap.R
#
# An optional first argument names another output folder. Made with R 4.2.2
# and mclust 6.0.0. The model is Old Faithful's EEE with G = 3 from mclust's
# default start, Mclust(faithful, G = 3, modelNames = "EEE"); each kind of
# bootstrap runs
#
#   MclustBootstrap(mod, nboot = 4999, type = <type>)   with set.seed(2024)
#
# for type "bs" (nonparametric: rows resampled), "wlbs" (weighted likelihood:
# Dirichlet weights) and "pb" (parametric: rows drawn from the fit).
# bootstrap.csv holds, per (type, param, k, i, j): the fitted value
# (`estimate`), the replicates' standard deviation (`se`, summary(, what =
# "se")), the 2.5% and 97.5% percentiles (`ci_lower`, `ci_upper`,
# summary(, what = "ci", conf.level = 0.95), R's quantile type 7), the
# replicates' excess kurtosis (`kurtosis`, for the Monte-Carlo error of `se`),
# `nboot` and `nonfit` (replicates mclust could not fit). `param` is `pro`
# (index k), `mean` (k, i) or `variance` (k, i, j), all 1-based, components
# in mclust's order.

suppressPackageStartupMessages(library(mclust))

args <- commandArgs(trailingOnly = TRUE)
here <- local({
  file_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  if (length(file_arg)) dirname(normalizePath(sub("^--file=", "", file_arg[1]))) else getwd()
})
out_dir <- if (length(args) >= 1) args[1] else here
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

num_text <- function(x) {
  s <- sprintf("%.15g", x)
  bad <- !is.na(x) & suppressWarnings(as.numeric(s)) != x
  s[bad] <- sprintf("%.17g", x[bad])
  s[is.na(x)] <- "NA"
  s
}
excess_kurtosis <- function(v) {
  m <- mean(v); s2 <- mean((v - m)^2)
  mean((v - m)^4) / s2^2 - 3
}

X <- as.matrix(datasets::faithful[, c("eruptions", "waiting")])
NBOOT <- 4999
mod <- Mclust(X, G = 3, modelNames = "EEE", verbose = FALSE)
d <- ncol(X); G <- mod$G

rows <- list()
add <- function(type, param, k, i, j, est, reps, nonfit) {
  q <- quantile(reps, c(0.025, 0.975), names = FALSE)
  rows[[length(rows) + 1]] <<- data.frame(
    type = type, param = param, k = k, i = i, j = j,
    estimate = num_text(est), se = num_text(sd(reps)),
    ci_lower = num_text(q[1]), ci_upper = num_text(q[2]),
    kurtosis = num_text(excess_kurtosis(reps)), nboot = NBOOT, nonfit = nonfit)
}
for (type in c("bs", "wlbs", "pb")) {
  set.seed(2024)
  b <- MclustBootstrap(mod, nboot = NBOOT, type = type, verbose = FALSE)
  ok <- stats::complete.cases(b$pro)
  for (k in 1:G) {
    add(type, "pro", k, NA, NA, mod$parameters$pro[k], b$pro[ok, k], b$nonfit)
    for (i in 1:d) add(type, "mean", k, i, NA, mod$parameters$mean[i, k], b$mean[ok, i, k], b$nonfit)
    for (i in 1:d) for (j in 1:d)
      add(type, "variance", k, i, j, mod$parameters$variance$sigma[i, j, k], b$variance[ok, i, j, k], b$nonfit)
  }
}
table <- do.call(rbind, rows)
path <- file.path(out_dir, "bootstrap.csv")
write.csv(table, path, row.names = FALSE, quote = FALSE, na = "NA")
cat("wrote", path, "\n")
