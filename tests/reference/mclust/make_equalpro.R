#!/usr/bin/env Rscript
# Reference table from R's mclust for equal mixing proportions (equalPro),
# so that emix's tests can compare GaussianMixture(equal_weights=True) with
# mclust without R.
#
# Regenerate (from the repository root; writes next to this script):
#
#   Rscript --vanilla tests/reference/mclust/make_equalpro.R
#
# An optional first argument names another output folder. Made with R 4.2.2
# and mclust 6.0.0. Every fit is
#
#   Mclust(X, G = G, modelNames = model, control = emControl(equalPro = TRUE))
#
# with mclust's default start (hc(modelName = "VVV", use = "SVD")), no prior,
# no noise. equalpro.csv holds, per (dataset, model, G): loglik (mclust's,
# of the last E-step), bic (mclust's sign: 2 loglik - df log n, larger is
# better), df (nMclustParams(model, d, G, equalPro = TRUE): the G - 1
# proportions are not counted), the return code of me() (0: converged) and
# the fitted means (mean_<k>_<i>, 1-based, mclust's component order), so that
# a test can check that emix reaches the same optimum. The data are the
# rows of faithful.csv and iris.csv beside this script.

suppressPackageStartupMessages(library(mclust))

args <- commandArgs(trailingOnly = TRUE)
here <- local({
  file_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  if (length(file_arg)) dirname(normalizePath(sub("^--file=", "", file_arg[1]))) else getwd()
})
out_dir <- if (length(args) >= 1) args[1] else here
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

# Numbers as text that read back to the same double: 15 significant digits
# when that round-trips, else 17 (as make_reference.R writes them).
num_text <- function(x) {
  s <- sprintf("%.15g", x)
  bad <- !is.na(x) & suppressWarnings(as.numeric(s)) != x
  s[bad] <- sprintf("%.17g", x[bad])
  s[is.na(x)] <- "NA"
  s
}

datasets <- list(
  faithful = as.matrix(datasets::faithful[, c("eruptions", "waiting")]),
  iris = as.matrix(datasets::iris[, 1:4])
)
cells <- list(
  list("faithful", "EEE", 3), list("faithful", "VVV", 3), list("faithful", "EII", 3),
  list("faithful", "VEV", 3), list("faithful", "EEE", 2),
  list("iris", "EEE", 3), list("iris", "VVV", 3), list("iris", "VEV", 3),
  list("iris", "EEI", 3), list("iris", "VVV", 2)
)

rows <- list()
for (cell in cells) {
  name <- cell[[1]]; model <- cell[[2]]; G <- cell[[3]]
  X <- datasets[[name]]
  fit <- Mclust(X, G = G, modelNames = model, control = emControl(equalPro = TRUE),
                verbose = FALSE)
  df <- nMclustParams(model, ncol(X), G, equalPro = TRUE)
  stopifnot(df == fit$df)
  # me() from the same start, for its return code (Mclust keeps only the fit)
  z <- unmap(hclass(hc(X, modelName = "VVV", use = "SVD"), G))
  rc <- attr(me(X, modelName = model, z = z, control = emControl(equalPro = TRUE)), "returnCode")
  means <- fit$parameters$mean  # d x G
  row <- data.frame(dataset = name, model = model, G = G, n = nrow(X), d = ncol(X),
                    loglik = num_text(fit$loglik), bic = num_text(fit$bic), df = df, rc = rc)
  for (k in 1:3) for (i in 1:4) {
    v <- if (k <= G && i <= ncol(X)) means[i, k] else NA
    row[[sprintf("mean_%d_%d", k, i)]] <- num_text(v)
  }
  rows[[length(rows) + 1]] <- row
}
table <- do.call(rbind, rows)
path <- file.path(out_dir, "equalpro.csv")
write.csv(table, path, row.names = FALSE, quote = FALSE, na = "NA")
cat("wrote", path, "\n")
