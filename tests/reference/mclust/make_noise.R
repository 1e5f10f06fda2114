#!/usr/bin/env Rscript
# Reference tables from R's mclust for a noise component (a uniform density
# over the data's hypervolume), so that emix's tests can compare
# GaussianMixture(noise=True) and select(noise=True) with mclust without R.
#
# Regenerate (from the repository root; writes next to this script):
#
#   Rscript --vanilla tests/reference/mclust/make_noise.R
#
# An optional first argument names another output folder. Made with R 4.2.2
# and mclust 6.0.0.
#
# The data are made here (set.seed) and written with them:
#
#   noise_data.csv  dataset, x1..x4 (NA beyond d), noise (TRUE where the row
#                   was drawn from the uniform noise: the noise guess given to
#                   mclust as initialization$noise)
#
#   "clusters2d": three Gaussian clusters (300 rows) and 60 rows uniform on
#                 a box around them, 2-D.
#   "iris4d":     iris[, 1:4] and 30 rows uniform on its bounding box
#                 enlarged by 20% per side, 4-D.
#   "rotated2d":  clusters2d turned by 0.7 radians (40 degrees), so that the
#                 box of the principal-component scores is the smaller volume.
#
# noise_bic.csv holds, per (dataset, model, G), what mclustBIC(X, G,
# model, initialization = list(noise = guess)) computes, cell by cell, as it
# computes it: hc(X[-noise, ], "VVV", use = "SVD") cut at G (qclass in 1-D),
# z with the noise rows z = 1 on the noise column, then
# me(X, model, z, Vinv = hypvol(X, reciprocal = TRUE)); the columns are
# loglik, bic (mclust's sign: 2 loglik - df log n; NA where mclust gives NA),
# icl (bic + 2 sum_n log max_k z_nk, the noise column included, as
# icl.Mclust), df (nMclustParams(model, d, G, noise = TRUE): the G - 1
# proportions, the noise proportion and the volume), rc (me's return code),
# noise_pro (the fitted noise proportion) and the fitted means (mean_<k>_<i>).
# The script checks that its bic equals mclustBIC's own table cell by cell.
#
# noise_volume.csv holds, per dataset, hypvol(X) and its two candidates: the
# bounding box and the box of the principal-component scores (princomp).
#
# noise_best.csv holds Mclust(X, initialization = list(noise = guess))'s
# choice over mclust's default grid (G = 0..9, 14 models), with its BIC.

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

set.seed(20240514)
centres <- rbind(c(0, 0), c(6, 1), c(2, 7))
scales <- list(diag(c(1, 0.5)), matrix(c(1, 0.6, 0.6, 1), 2), diag(c(0.6, 1.2)))
blobs <- do.call(rbind, lapply(1:3, function(k) {
  e <- matrix(rnorm(200), ncol = 2) %*% chol(scales[[k]])
  sweep(e, 2, centres[k, ], "+")
}))
box <- cbind(runif(60, -4, 10), runif(60, -4, 11))
clusters2d <- rbind(blobs, box)
noise2d <- c(rep(FALSE, 300), rep(TRUE, 60))

iris4 <- as.matrix(datasets::iris[, 1:4])
lo <- apply(iris4, 2, min); hi <- apply(iris4, 2, max); pad <- 0.2 * (hi - lo)
unif4 <- sapply(1:4, function(j) runif(30, lo[j] - pad[j], hi[j] + pad[j]))
iris4d <- rbind(iris4, unif4)
colnames(iris4d) <- NULL
noise4d <- c(rep(FALSE, 150), rep(TRUE, 30))

# the same rows turned by 40 degrees: now the principal-component box is the smaller one
turn <- matrix(c(cos(0.7), sin(0.7), -sin(0.7), cos(0.7)), 2)
rotated2d <- clusters2d %*% turn

datasets <- list(clusters2d = list(X = clusters2d, noise = noise2d),
                 iris4d = list(X = iris4d, noise = noise4d),
                 rotated2d = list(X = rotated2d, noise = noise2d))

data_rows <- list()
for (name in names(datasets)) {
  X <- datasets[[name]]$X
  full <- matrix(NA, nrow(X), 4)
  full[, 1:ncol(X)] <- X
  data_rows[[name]] <- data.frame(dataset = name, x1 = num_text(full[, 1]), x2 = num_text(full[, 2]),
                                  x3 = num_text(full[, 3]), x4 = num_text(full[, 4]),
                                  noise = datasets[[name]]$noise)
}
write.csv(do.call(rbind, data_rows), file.path(out_dir, "noise_data.csv"), row.names = FALSE,
          quote = FALSE, na = "NA")

log_range_sum <- function(M) sum(log(apply(M, 2, function(col) diff(range(col)))))
vol_rows <- list()
for (name in names(datasets)) {
  X <- datasets[[name]]$X
  vol_rows[[name]] <- data.frame(dataset = name, hypvol = num_text(hypvol(X)),
                                 box = num_text(exp(log_range_sum(X))),
                                 pc_box = num_text(exp(log_range_sum(princomp(X)$scores))))
}
write.csv(do.call(rbind, vol_rows), file.path(out_dir, "noise_volume.csv"), row.names = FALSE,
          quote = FALSE)

models <- c("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE", "VVE", "EEV", "VEV",
            "EVV", "VVV")
Gs <- 1:4
rows <- list()
for (name in names(datasets)) {
  X <- datasets[[name]]$X
  noise <- which(datasets[[name]]$noise)
  n <- nrow(X); d <- ncol(X)
  Vinv <- hypvol(X, reciprocal = TRUE)
  BIC <- mclustBIC(X, G = Gs, modelNames = models, initialization = list(noise = noise),
                   verbose = FALSE)
  ICL <- mclustICL(X, G = Gs, modelNames = models, initialization = list(noise = noise),
                   verbose = FALSE)
  hcPairs <- hc(X[-noise, ], modelName = "VVV", use = "SVD")
  for (model in models) for (G in Gs) {
    z <- matrix(0, n, G + 1)
    z[-noise, 1:G] <- unmap(hclass(hcPairs, G))
    z[noise, G + 1] <- 1
    fit <- me(X, modelName = model, z = z, Vinv = Vinv, warn = FALSE)
    df <- nMclustParams(model, d, G, noise = TRUE)
    bic <- if (is.na(fit$loglik)) NA else 2 * fit$loglik - df * log(n)
    ref <- BIC[as.character(G), model]
    stopifnot(identical(is.na(bic), is.na(ref)), is.na(bic) || abs(bic - ref) < 1e-8 * abs(ref))
    icl <- NA
    if (!is.na(bic)) {
      zz <- fit$z
      icl <- bic + 2 * sum(log(apply(zz, 1, max)))
      stopifnot(abs(icl - ICL[as.character(G), model]) < 1e-8 * abs(icl))
    }
    row <- data.frame(dataset = name, model = model, G = G, n = n, d = d,
                      loglik = num_text(fit$loglik), bic = num_text(bic), icl = num_text(icl),
                      df = df, rc = attr(fit, "returnCode"),
                      noise_pro = num_text(fit$parameters$pro[G + 1]))
    for (k in 1:4) for (i in 1:4) {
      v <- if (k <= G && i <= d && !is.na(fit$loglik)) fit$parameters$mean[i, k] else NA
      row[[sprintf("mean_%d_%d", k, i)]] <- num_text(v)
    }
    rows[[length(rows) + 1]] <- row
  }
}
write.csv(do.call(rbind, rows), file.path(out_dir, "noise_bic.csv"), row.names = FALSE, quote = FALSE,
          na = "NA")

best <- list()
for (name in names(datasets)) {
  X <- datasets[[name]]$X
  fit <- Mclust(X, initialization = list(noise = which(datasets[[name]]$noise)), verbose = FALSE)
  best[[name]] <- data.frame(dataset = name, model = fit$modelName, G = fit$G, bic = num_text(fit$bic),
                             loglik = num_text(fit$loglik), noise_pro = num_text(fit$parameters$pro[fit$G + 1]),
                             bic_G0 = num_text(2 * nrow(X) * log(hypvol(X, reciprocal = TRUE)) - log(nrow(X))))
}
write.csv(do.call(rbind, best), file.path(out_dir, "noise_best.csv"), row.names = FALSE, quote = FALSE)
cat("wrote noise_data.csv, noise_volume.csv, noise_bic.csv, noise_best.csv in", out_dir, "\n")
