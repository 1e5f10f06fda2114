#!/usr/bin/env Rscript
# Reference tables from R's mclust, so that emix's tests can compare
# emix.select with mclustBIC cell by cell without R.
#
# Regenerate (from the repository root; writes next to this script):
#
#   Rscript --vanilla tests/reference/mclust/make_reference.R
#
# An optional first argument names another output folder, and an optional
# second one the number of timing runs per data set (default 5):
#
#   Rscript --vanilla tests/reference/mclust/make_reference.R /tmp/out 3
#
# Made with R 4.2.2 and mclust 6.0.0 (Debian bookworm: apt-get install
# r-base-core r-cran-mclust r-cran-mass). Everything runs with mclust's
# defaults: emControl() (tol = c(1e-5, sqrt(eps)), no iteration limit),
# hierarchical initialisation hc(modelName = "VVV", use = "SVD") for
# multivariate data and quantile classes for 1-D data, no prior, no noise.
# README.md beside this script says what each table holds.

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
n_timing_runs <- if (length(args) >= 2) as.integer(args[2]) else 5L
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

G_GRID <- 1:9
MODELS_MULTI <- c("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE",
                  "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV")
MODELS_1D <- c("E", "V")

# Numbers as text that read back to the same double: 15 significant digits
# when that round-trips, else 17.
num_text <- function(x) {
  s <- sprintf("%.15g", x)
  bad <- !is.na(x) & suppressWarnings(as.numeric(s)) != x
  s[bad] <- sprintf("%.17g", x[bad])
  s[is.na(x)] <- "NA"
  s
}

write_table <- function(df, name) {
  for (j in seq_along(df)) {
    if (is.double(df[[j]])) df[[j]] <- num_text(df[[j]])
  }
  path <- file.path(out_dir, name)
  write.csv(df, path, row.names = FALSE, quote = FALSE, na = "NA")
  cat("wrote", path, "\n")
}

# ---------------------------------------------------------------- data sets
# Each entry: numeric data (a matrix, one column for 1-D data), an optional
# label vector, and the file the rows are written to.
data(diabetes, package = "mclust")
data(banknote, package = "mclust")
data(wreath, package = "mclust")

datasets <- list(
  faithful = list(
    X = as.matrix(datasets::faithful[, c("eruptions", "waiting")]),
    labels = NULL, label_name = NULL),
  iris = list(
    X = as.matrix(datasets::iris[, 1:4]),
    labels = as.character(datasets::iris$Species), label_name = "Species"),
  diabetes = list(
    X = as.matrix(diabetes[, c("glucose", "insulin", "sspg")]),
    labels = as.character(diabetes$class), label_name = "class"),
  # mclust's examples (and MASS's) use the velocities in 1000 km/s.
  galaxies = list(
    X = matrix(MASS::galaxies / 1000, ncol = 1, dimnames = list(NULL, "velocity")),
    labels = NULL, label_name = NULL),
  banknote = list(
    X = as.matrix(banknote[, c("Length", "Left", "Right", "Bottom", "Top", "Diagonal")]),
    labels = as.character(banknote$Status), label_name = "Status"),
  wreath = list(
    X = unname(as.matrix(wreath)),
    labels = NULL, label_name = NULL)
)
colnames(datasets$wreath$X) <- c("x1", "x2")

# The data handed to mclust: a vector for 1-D data (as mclust's own examples
# pass galaxies), a matrix otherwise.
mclust_data <- function(X) if (ncol(X) == 1) drop(X) else X

model_names <- function(X) if (ncol(X) == 1) MODELS_1D else MODELS_MULTI

# ----------------------------------------------------------------- the grid
index_rows <- list()
grid_rows <- list()
top_rows <- list()
start_rows <- list()
timing_rows <- list()
fits <- list()

for (name in names(datasets)) {
  ds <- datasets[[name]]
  X <- ds$X
  n <- nrow(X)
  d <- ncol(X)
  x <- mclust_data(X)
  models <- model_names(X)

  # the data set itself
  df <- as.data.frame(X)
  if (!is.null(ds$labels)) df[[ds$label_name]] <- ds$labels
  write_table(df, paste0(name, ".csv"))

  bic <- mclustBIC(x, G = G_GRID, modelNames = models, verbose = FALSE)
  icl <- mclustICL(x, G = G_GRID, modelNames = models, verbose = FALSE)
  rc <- attr(bic, "returnCodes")
  for (m in models) {
    for (g in G_GRID) {
      gs <- as.character(g)
      b <- bic[gs, m]
      df_cell <- nMclustParams(m, d = d, G = g)
      grid_rows[[length(grid_rows) + 1]] <- data.frame(
        dataset = name, model = m, G = g,
        bic = b,
        # mclust's bic() is 2 loglik - df log(n); invert it.
        loglik = (b + df_cell * log(n)) / 2,
        df = df_cell,
        icl = icl[gs, m],
        na = as.integer(is.na(b)),
        rc = as.integer(rc[gs, m]),
        stringsAsFactors = FALSE)
    }
  }

  for (crit in c("BIC", "ICL")) {
    obj <- if (crit == "BIC") bic else icl
    best <- if (crit == "BIC") summary(obj, x) else summary(obj)
    vals <- if (crit == "BIC") attr(best, "bestBICvalues") else unclass(best)
    parts <- strsplit(names(vals), ",")
    top_rows[[length(top_rows) + 1]] <- data.frame(
      dataset = name, criterion = crit, rank = seq_along(vals),
      model = vapply(parts, `[`, "", 1),
      G = as.integer(vapply(parts, `[`, "", 2)),
      value = as.numeric(vals), stringsAsFactors = FALSE)
  }

  # mclust's starting partitions, as mclustBIC makes them for n <= 2000 rows
  if (d > 1) {
    tree <- hc(X, modelName = mclust.options("hcModelName"), use = mclust.options("hcUse"))
    cl <- hclass(tree, G_GRID)
    # the same tree as the one mclustBIC built and kept
    stopifnot(identical(cl, hclass(attr(bic, "initialization")$hcPairs, G_GRID)))
    init <- paste0("hc_", mclust.options("hcModelName"), "_", mclust.options("hcUse"))
  } else {
    cl <- sapply(G_GRID, function(g) mclust:::qclass(x, g))
    init <- "qclass"
  }
  st <- data.frame(dataset = name, row = seq_len(n), stringsAsFactors = FALSE)
  for (j in seq_along(G_GRID)) st[[paste0("G", G_GRID[j])]] <- as.integer(cl[, j])
  start_rows[[length(start_rows) + 1]] <- st
  index_rows[[length(index_rows) + 1]] <- data.frame(
    dataset = name, file = paste0(name, ".csv"), n = n, d = d,
    columns = paste(colnames(X), collapse = ";"),
    label_column = if (is.null(ds$label_name)) "" else ds$label_name,
    models = paste(models, collapse = ";"), init = init, stringsAsFactors = FALSE)

  # wall time of the whole grid
  elapsed <- cpu <- numeric(n_timing_runs)
  for (r in seq_len(n_timing_runs)) {
    tm <- system.time(mclustBIC(x, G = G_GRID, modelNames = models, verbose = FALSE))
    elapsed[r] <- tm[["elapsed"]]
    cpu[r] <- tm[["user.self"]] + tm[["sys.self"]]
  }
  timing_rows[[length(timing_rows) + 1]] <- data.frame(
    dataset = name, n = n, d = d, models = length(models), G = paste(range(G_GRID), collapse = ":"),
    runs = n_timing_runs,
    elapsed_median_s = round(median(elapsed), 3), elapsed_min_s = round(min(elapsed), 3),
    cpu_median_s = round(median(cpu), 3),
    stringsAsFactors = FALSE)

  best_bic <- top_rows[[length(top_rows) - 1]]
  fits[[length(fits) + 1]] <- list(name = name, model = best_bic$model[1], G = best_bic$G[1])
}

# --------------------------------------------------- fitted parameters
# mclust's chosen model per data set, and a few named cells.
extra <- list(
  list(name = "iris", model = "VEV", G = 2),
  list(name = "iris", model = "VEV", G = 3),
  list(name = "faithful", model = "EEE", G = 3),
  list(name = "diabetes", model = "VVV", G = 3),
  list(name = "galaxies", model = "V", G = 4),
  list(name = "banknote", model = "VVV", G = 2)
)
seen <- character(0)
fit_rows <- list()
grid <- do.call(rbind, grid_rows)
for (f in c(fits, extra)) {
  key <- paste(f$name, f$model, f$G)
  if (key %in% seen) next
  seen <- c(seen, key)
  x <- mclust_data(datasets[[f$name]]$X)
  fit <- Mclust(x, G = f$G, modelNames = f$model, verbose = FALSE)
  cell <- grid[grid$dataset == f$name & grid$model == f$model & grid$G == f$G, ]
  stopifnot(abs(fit$loglik - cell$loglik) < 1e-8 * abs(cell$loglik))
  d <- fit$d
  G <- fit$G
  p <- fit$parameters
  mu <- matrix(p$mean, nrow = d, ncol = G)
  sigma <- if (d == 1) {
    array(rep_len(p$variance$sigmasq, G), c(1, 1, G))
  } else {
    p$variance$sigma
  }
  add <- function(param, k, i, j, value) {
    fit_rows[[length(fit_rows) + 1]] <<- data.frame(
      dataset = f$name, model = f$model, G = G, param = param,
      k = k, i = i, j = j, value = as.numeric(value), stringsAsFactors = FALSE)
  }
  add("loglik", NA, NA, NA, fit$loglik)
  add("bic", NA, NA, NA, fit$bic)
  add("df", NA, NA, NA, fit$df)
  add("icl", NA, NA, NA, icl(fit))
  for (k in seq_len(G)) add("pro", k, NA, NA, p$pro[k])
  for (k in seq_len(G)) for (i in seq_len(d)) add("mean", k, i, NA, mu[i, k])
  for (k in seq_len(G)) for (i in seq_len(d)) for (j in seq_len(d)) {
    add("sigma", k, i, j, sigma[i, j, k])
  }
  cls <- tabulate(fit$classification, nbins = G)
  for (k in seq_len(G)) add("size", k, NA, NA, cls[k])
}

# ------------------------------------------------------------------- write
write_table(do.call(rbind, index_rows), "datasets.csv")
write_table(grid, "bic_grid.csv")
write_table(do.call(rbind, top_rows), "top.csv")
write_table(do.call(rbind, start_rows), "starts.csv")
write_table(do.call(rbind, fit_rows), "fits.csv")

cpu_model <- tryCatch({
  l <- grep("^model name", readLines("/proc/cpuinfo"), value = TRUE)[1]
  trimws(sub("^[^:]*:", "", l))
}, error = function(e) NA_character_)
timings <- do.call(rbind, timing_rows)
timings$r_version <- paste(R.version$major, R.version$minor, sep = ".")
timings$mclust_version <- as.character(packageVersion("mclust"))
timings$blas <- basename(extSoftVersion()[["BLAS"]])
timings$cores <- parallel::detectCores()
timings$cpu <- gsub(",", " ", cpu_model)
write_table(timings, "timings.csv")
