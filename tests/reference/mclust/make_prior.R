#!/usr/bin/env Rscript
# Reference table from R's mclust for MAP estimation with its conjugate prior
# (priorControl()), so that emix's tests can compare GaussianMixture(prior=)
# and emix.select(prior=) with mclust without R.
#
# Regenerate (from the repository root; writes next to this script):
#
#   Rscript --vanilla tests/reference/mclust/make_prior.R
#
# An optional first argument names another output folder. Made with R 4.2.2
# and mclust 6.0.0. Every cell is
#
#   mclustBIC(X, G = G, modelNames = model, prior = <prior>, control = emControl(tol = c(tol, sqrt(eps))))
#
# with mclust's default start (hc(modelName = "VVV", use = "SVD"); quantile
# classes for 1-D data), no noise. prior_bic.csv holds, per (dataset, prior,
# tol, model, G): bic (mclust's sign: 2 loglik - df log n, larger is better;
# NA where mclust has none), df (nMclustParams: the prior adds none), loglik
# (recovered as (bic + df log n) / 2: mclust's loglik is that of the data at
# the MAP estimate, the prior not included), the prior's shrinkage, mean,
# scale (';'-separated, column-major; NA: defaultPrior's) and dof (NA: the
# default). tol = 1e-5 is mclust's default (tables as mclustBIC prints
# them); tol = 1e-10 runs EM nearly to its fixed point, so that a test can
# compare with emix at the same optimum. mclust has no prior for VEE, EVE,
# VVE, EVV (their cells are absent from mclustBIC's table with a prior).
# prior_defaults.csv holds defaultPrior()'s values for a few (dataset, model,
# G). The data are the rows of faithful.csv, iris.csv and galaxies.csv
# beside this script.

suppressPackageStartupMessages({
  library(mclust)
  library(MASS)
})

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
vec_text <- function(x) if (is.null(x)) "NA" else paste(num_text(as.vector(x)), collapse = ";")

MODELS <- c("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "EEV", "VEV", "VVV")
datasets <- list(
  faithful = as.matrix(datasets::faithful[, c("eruptions", "waiting")]),
  iris = as.matrix(datasets::iris[, 1:4]),
  galaxies = MASS::galaxies / 1000
)
# the priors: mclust's default, and user values for the mean, scale and shrinkage
priors <- list(
  list(dataset = "faithful", label = "default", G = 1:9, tol = c(1e-5, 1e-10), args = list()),
  list(dataset = "iris", label = "default", G = 1:5, tol = c(1e-5, 1e-10), args = list()),
  list(dataset = "galaxies", label = "default", G = 1:6, tol = c(1e-5, 1e-10), args = list()),
  list(dataset = "faithful", label = "user", G = 2:3, tol = 1e-10,
       args = list(shrinkage = 0.5, mean = c(3, 70), scale = diag(c(0.5, 30)))),
  list(dataset = "galaxies", label = "user", G = 2:4, tol = 1e-10,
       args = list(shrinkage = 0.1, mean = 20, scale = 2))
)

rows <- list()
for (p in priors) {
  X <- datasets[[p$dataset]]
  oneD <- is.null(dim(X))
  n <- if (oneD) length(X) else nrow(X)
  d <- if (oneD) 1 else ncol(X)
  models <- if (oneD) c("E", "V") else MODELS
  if (p$label == "user" && !oneD) models <- c("EEE", "EEV", "VEV", "VVV")  # a matrix scale
  prior <- do.call(priorControl, p$args)
  for (tol in p$tol) {
    bic <- mclustBIC(X, G = p$G, modelNames = models, prior = prior,
                     control = emControl(tol = c(tol, sqrt(.Machine$double.eps))), verbose = FALSE)
    for (model in models) for (G in p$G) {
      b <- bic[as.character(G), model]
      df <- nMclustParams(model, d, G)
      rows[[length(rows) + 1]] <- data.frame(
        dataset = p$dataset, prior = p$label, tol = num_text(tol), model = model, G = G, n = n, d = d,
        bic = num_text(b), df = df, loglik = num_text((b + df * log(n)) / 2),
        shrinkage = num_text(if (is.null(p$args$shrinkage)) 0.01 else p$args$shrinkage),
        mean = vec_text(p$args$mean), scale = vec_text(p$args$scale), dof = "NA")
    }
  }
}
table <- do.call(rbind, rows)
path <- file.path(out_dir, "prior_bic.csv")
write.csv(table, path, row.names = FALSE, quote = FALSE, na = "NA")
cat("wrote", path, "\n")

# defaultPrior's values (prior_defaults.csv): mean, dof and scale (';'-separated, column-major)
rows <- list()
for (cell in list(list("faithful", "VVV", 3), list("faithful", "EII", 3), list("faithful", "VEI", 2),
                  list("iris", "EEE", 4), list("iris", "VVI", 2), list("galaxies", "V", 4),
                  list("galaxies", "E", 1))) {
  X <- datasets[[cell[[1]]]]
  pp <- defaultPrior(X, G = cell[[3]], modelName = cell[[2]])
  rows[[length(rows) + 1]] <- data.frame(
    dataset = cell[[1]], model = cell[[2]], G = cell[[3]], shrinkage = num_text(pp$shrinkage),
    mean = vec_text(pp$mean), dof = num_text(pp$dof), scale = vec_text(pp$scale))
}
path <- file.path(out_dir, "prior_defaults.csv")
write.csv(do.call(rbind, rows), path, row.names = FALSE, quote = FALSE, na = "NA")
cat("wrote", path, "\n")
