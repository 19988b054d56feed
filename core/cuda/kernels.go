//go:build !js

package cuda

// kernelSource is the CUDA C of every kernel of the engine, compiled as
// one module (NVRTC on a Device, g++ against emuHeader on Emu). The same
// text runs on both, so it keeps to what both accept: no headers, no
// warp intrinsics, statically sized __shared__ arrays, 1-D blocks of
// mlBlock threads (the reductions assume a power of two).
//
// Layouts: an image tensor is C×N×H×W (channel-major: a channel's values
// are contiguous, so a convolution is one GEMM over the whole batch and a
// batch norm reduces a contiguous range); a flat tensor is N×F
// (row-major, PyTorch's flatten order after a permutation). Kernels that
// work per channel take (c, inner): element i is in channel
// (i / inner) % c, which is inner = N·H·W for C×N×H×W and inner = 1 for
// N×F. Backward kernels take acc: 0 writes the gradient, 1 adds it to
// what the buffer holds (a value read by two layers).
//
// Sums that the gorgonia engine takes in float64 (batch-norm statistics,
// softmax, the pair losses, row norms) are float64 here too.
const kernelSource = kernelPrelude + kernelElementwise + kernelConv + kernelNorm + kernelMargin + kernelPair + kernelOptim

// mlBlock is the block size of every launch.
const mlBlock = 256

const kernelPrelude = `// metriclab kernels (core/cuda/kernels.go)
#define ML_BLOCK 256
#define ML_PI 3.141592653589793
#define ML_FOR(i, n) for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += blockDim.x * gridDim.x)

// Device scalars the host writes before each step (scal[]), so that a
// captured graph replays with new values.
#define ML_SC_LR 0
#define ML_SC_LRC 1
#define ML_SC_SC 2
#define ML_SC_LAMBDA 3

// ml_block_sum2 sums a and b over the block; every thread gets the sums.
__device__ void ml_block_sum2(double *a, double *b) {
	__shared__ double sa[ML_BLOCK];
	__shared__ double sb[ML_BLOCK];
	unsigned t = threadIdx.x;
	sa[t] = *a;
	sb[t] = *b;
	__syncthreads();
	for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
		if (t < s) {
			sa[t] += sa[t + s];
			sb[t] += sb[t + s];
		}
		__syncthreads();
	}
	*a = sa[0];
	*b = sb[0];
	__syncthreads();
}

__device__ double ml_block_sum(double a) {
	double b = 0;
	ml_block_sum2(&a, &b);
	return a;
}

// ml_block_max returns the largest a of the block to every thread.
__device__ double ml_block_max(double a) {
	__shared__ double sm[ML_BLOCK];
	unsigned t = threadIdx.x;
	sm[t] = a;
	__syncthreads();
	for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
		if (t < s && sm[t + s] > sm[t])
			sm[t] = sm[t + s];
		__syncthreads();
	}
	a = sm[0];
	__syncthreads();
	return a;
}
`

const kernelElementwise = `
extern "C" __global__ void ml_fill(float *y, int n, float v) {
	ML_FOR(i, n) y[i] = v;
}

// ml_input: raw N×C×HW pixels to the normalised C×N×HW input,
// (x − mean)·invstd in float64 (as the gorgonia engine).
extern "C" __global__ void ml_input(float *y, const float *x, int n, int c, int hw, double mean, double invstd) {
	ML_FOR(i, n * c * hw) {
		int p = i % hw, r = i / hw, img = r % n, ch = r / n;
		y[i] = (float)(((double)x[(img * c + ch) * hw + p] - mean) * invstd);
	}
}

// ml_relu: y = x < 0 ? 0 : x, which keeps a NaN, as core's ReLU does:
// the loss of a NaN in a hidden layer is NaN, not that of a 0.
extern "C" __global__ void ml_relu(float *y, const float *x, int n) {
	ML_FOR(i, n) y[i] = x[i] < 0 ? 0.0f : x[i];
}

// ml_relu_backward: dx = x <= 0 ? 0 : dy, which passes dy on at a NaN, as
// core's does.
extern "C" __global__ void ml_relu_backward(float *dx, const float *dy, const float *x, int n, int acc) {
	ML_FOR(i, n) {
		float g = x[i] <= 0 ? 0.0f : dy[i];
		dx[i] = acc ? dx[i] + g : g;
	}
}

// ml_prelu: y = x > 0 ? x : a[ch]·x.
extern "C" __global__ void ml_prelu(float *y, const float *x, const float *a, int n, int c, int inner) {
	ML_FOR(i, n) {
		float v = x[i];
		y[i] = v > 0 ? v : a[(i / inner) % c] * v;
	}
}

extern "C" __global__ void ml_prelu_backward(float *dx, const float *dy, const float *x, const float *a, int n, int c, int inner, int acc) {
	ML_FOR(i, n) {
		float g = x[i] > 0 ? dy[i] : a[(i / inner) % c] * dy[i];
		dx[i] = acc ? dx[i] + g : g;
	}
}

extern "C" __global__ void ml_add(float *y, const float *a, const float *b, int n) {
	ML_FOR(i, n) y[i] = a[i] + b[i];
}

extern "C" __global__ void ml_accumulate(float *dst, const float *src, int n, int acc) {
	ML_FOR(i, n) dst[i] = acc ? dst[i] + src[i] : src[i];
}

// ml_bias_add: y[i] += b[channel of i].
extern "C" __global__ void ml_bias_add(float *y, const float *b, int n, int c, int inner) {
	ML_FOR(i, n) y[i] += b[(i / inner) % c];
}

// ml_cnhw_to_nf: C×N×HW to N×(C·HW), PyTorch's flatten order.
extern "C" __global__ void ml_cnhw_to_nf(float *y, const float *x, int c, int n, int hw) {
	ML_FOR(i, c * n * hw) {
		int img = i / (c * hw), r = i % (c * hw), ch = r / hw, p = r % hw;
		y[i] = x[(ch * n + img) * hw + p];
	}
}

extern "C" __global__ void ml_nf_to_cnhw(float *dx, const float *dy, int c, int n, int hw, int acc) {
	ML_FOR(i, c * n * hw) {
		int p = i % hw, t = i / hw, img = t % n, ch = t / n;
		float g = dy[(img * c + ch) * hw + p];
		dx[i] = acc ? dx[i] + g : g;
	}
}

// ml_chan_partial reduces each channel's m values in slices: block
// (channel ch, slice s) of a c × S grid writes two partial sums to
// part[(ch·S + s)·2 + 0|1]:
//
//	mode 0: Σa, Σa²                      (batch-norm statistics of a)
//	mode 1: Σa, Σa·(b − mean)·invstd     (a = dy, b = x: dβ, dγ)
//	mode 2: Σ_{b ≤ 0} a·b                (a = dy, b = x: PReLU's slope)
//	mode 3: Σa                           (a bias's gradient)
//
// Element j of channel ch is at ((j / inner)·c + ch)·inner + j % inner.
extern "C" __global__ void ml_chan_partial(double *part, const float *a, const float *b, const double *mean,
		const double *invstd, int mode, int c, int m, int inner) {
	int ch = blockIdx.x, S = gridDim.y;
	double s0 = 0, s1 = 0;
	for (int j = blockIdx.y * blockDim.x + threadIdx.x; j < m; j += S * blockDim.x) {
		int i = inner == m ? ch * m + j : (inner == 1 ? j * c + ch : ((j / inner) * c + ch) * inner + j % inner);
		double va = a[i];
		if (mode == 0) {
			s0 += va;
			s1 += va * va;
		} else if (mode == 1) {
			s0 += va;
			s1 += va * (((double)b[i] - mean[ch]) * invstd[ch]);
		} else if (mode == 2) {
			if (b[i] <= 0)
				s0 += va * b[i];
		} else {
			s0 += va;
		}
	}
	ml_block_sum2(&s0, &s1);
	if (threadIdx.x == 0) {
		part[(ch * S + blockIdx.y) * 2] = s0;
		part[(ch * S + blockIdx.y) * 2 + 1] = s1;
	}
}

// ml_chan_final: out[ch] (+)= Σ_s part[(ch·S + s)·2 + which].
extern "C" __global__ void ml_chan_final(float *out, const double *part, int c, int S, int which, int acc) {
	ML_FOR(ch, c) {
		double s = 0;
		for (int k = 0; k < S; k++)
			s += part[(ch * S + k) * 2 + which];
		out[ch] = acc ? out[ch] + (float)s : (float)s;
	}
}
`

const kernelConv = `
// ml_im2col writes the columns of images n0 .. n0+nc−1 of x (C×N×H×W):
// col is (C·K·K) × (nc·Ho·Wo), row (ch, u, v), column (image, i, j),
// holding x[ch, image, s·i+u−pad, s·j+v−pad] or 0 outside the image.
extern "C" __global__ void ml_im2col(float *col, const float *x, int c, int n, int h, int w, int k, int stride, int pad,
		int ho, int wo, int n0, int nc) {
	int P = ho * wo, cols = nc * P;
	ML_FOR(idx, c * k * k * cols) {
		int q = idx % cols, r = idx / cols;
		int v = r % k, u = (r / k) % k, ch = r / (k * k);
		int img = n0 + q / P, p = q % P, i = p / wo, j = p % wo;
		int hh = i * stride + u - pad, ww = j * stride + v - pad;
		col[idx] = (hh >= 0 && hh < h && ww >= 0 && ww < w) ? x[((ch * n + img) * h + hh) * w + ww] : 0.0f;
	}
}

// ml_col2im is the adjoint of ml_im2col: each element of images
// n0 .. n0+nc−1 of dx gathers the columns that read it.
extern "C" __global__ void ml_col2im(float *dx, const float *col, int c, int n, int h, int w, int k, int stride, int pad,
		int ho, int wo, int n0, int nc, int acc) {
	int P = ho * wo, cols = nc * P;
	ML_FOR(idx, c * nc * h * w) {
		int ww = idx % w, t = idx / w, hh = t % h;
		t /= h;
		int img = t % nc, ch = t / nc;
		float s = 0;
		for (int u = 0; u < k; u++) {
			int a = hh + pad - u;
			if (a < 0 || a % stride != 0 || a / stride >= ho)
				continue;
			int i = a / stride;
			for (int v = 0; v < k; v++) {
				int b = ww + pad - v;
				if (b < 0 || b % stride != 0 || b / stride >= wo)
					continue;
				s += col[((ch * k + u) * k + v) * cols + img * P + i * wo + b / stride];
			}
		}
		int o = ((ch * n + n0 + img) * h + hh) * w + ww;
		dx[o] = acc ? dx[o] + s : s;
	}
}

// ml_maxpool2: 2×2 windows, stride 2, over planes of h×w; the first
// largest value of the window in row-major order wins, and arg keeps its
// index in the plane.
extern "C" __global__ void ml_maxpool2(float *y, int *arg, const float *x, int planes, int h, int w, int ho, int wo) {
	ML_FOR(k, planes * ho * wo) {
		int pl = k / (ho * wo), r = k % (ho * wo), i = r / wo, j = r % wo;
		const float *xp = x + pl * h * w;
		int best = 2 * i * w + 2 * j;
		float m = xp[best];
		int cand[3] = {best + 1, best + w, best + w + 1};
		for (int q = 0; q < 3; q++) {
			if (xp[cand[q]] > m) {
				m = xp[cand[q]];
				best = cand[q];
			}
		}
		y[k] = m;
		arg[k] = best;
	}
}

extern "C" __global__ void ml_maxpool2_backward(float *dx, const float *dy, const int *arg, int planes, int h, int w, int ho, int wo, int acc) {
	ML_FOR(k, planes * h * w) {
		int pl = k / (h * w), r = k % (h * w), i = (r / w) / 2, j = (r % w) / 2;
		float g = 0;
		if (i < ho && j < wo) {
			int o = (pl * ho + i) * wo + j;
			if (arg[o] == r)
				g = dy[o];
		}
		dx[k] = acc ? dx[k] + g : g;
	}
}
`

const kernelNorm = `
// ml_bn_stats turns the partial sums of ml_chan_partial (mode 0) into
// each channel's mean and 1/√(σ²+ε) and updates the running statistics
// as PyTorch does (unbiased variance, momentum); with train = 0 it takes
// the running statistics instead and writes nothing else.
extern "C" __global__ void ml_bn_stats(double *mean, double *invstd, float *rmean, float *rvar, const double *part,
		int c, int S, int m, double momentum, double eps, int train) {
	ML_FOR(ch, c) {
		if (!train) {
			mean[ch] = rmean[ch];
			invstd[ch] = 1 / sqrt((double)rvar[ch] + eps);
			continue;
		}
		double s0 = 0, s1 = 0;
		for (int k = 0; k < S; k++) {
			s0 += part[(ch * S + k) * 2];
			s1 += part[(ch * S + k) * 2 + 1];
		}
		double mu = s0 / m, var = s1 / m - mu * mu;
		if (var < 0)
			var = 0;
		mean[ch] = mu;
		invstd[ch] = 1 / sqrt(var + eps);
		double unbiased = m > 1 ? var * m / (m - 1) : var;
		rmean[ch] = (float)((1 - momentum) * (double)rmean[ch] + momentum * mu);
		rvar[ch] = (float)((1 - momentum) * (double)rvar[ch] + momentum * unbiased);
	}
}

// ml_bn_apply: y = x·sc + sh, sc = γ·invstd, sh = β − mean·sc.
extern "C" __global__ void ml_bn_apply(float *y, const float *x, const double *mean, const double *invstd,
		const float *gamma, const float *beta, int n, int c, int inner) {
	ML_FOR(i, n) {
		int ch = (i / inner) % c;
		double scale = (double)gamma[ch] * invstd[ch];
		float sc = (float)scale, sh = (float)((double)beta[ch] - mean[ch] * scale);
		y[i] = x[i] * sc + sh;
	}
}

// ml_bn_backward: dx = γ·invstd/M·(M·dy − dβ − x̂·dγ), x̂ = (x − mean)·invstd.
extern "C" __global__ void ml_bn_backward(float *dx, const float *dy, const float *x, const double *mean,
		const double *invstd, const float *gamma, const float *dgamma, const float *dbeta, int n, int c, int inner,
		int m, int acc) {
	ML_FOR(i, n) {
		int ch = (i / inner) % c;
		double k = (double)gamma[ch] * invstd[ch] / m;
		double xh = ((double)x[i] - mean[ch]) * invstd[ch];
		float g = (float)(k * ((double)m * dy[i] - (double)dbeta[ch] - xh * (double)dgamma[ch]));
		dx[i] = acc ? dx[i] + g : g;
	}
}

// ml_row_normalize: y_r = scale·x_r/n_r, n_r = √(‖x_r‖² + 1e-12), one
// block per row.
extern "C" __global__ void ml_row_normalize(float *y, double *norm, const float *x, int rows, int d, double scale) {
	int r = blockIdx.x;
	if (r >= rows)
		return;
	const float *xr = x + (long long)r * d;
	double ss = 0;
	for (int j = threadIdx.x; j < d; j += blockDim.x)
		ss += (double)xr[j] * xr[j];
	ss = ml_block_sum(ss);
	double nrm = sqrt(ss + 1e-12), k = scale / nrm;
	for (int j = threadIdx.x; j < d; j += blockDim.x)
		y[(long long)r * d + j] = (float)(k * xr[j]);
	if (threadIdx.x == 0)
		norm[r] = nrm;
}

// ml_row_normalize_backward: dx_r = scale·(g_r − x̂_r·(x̂_r·g_r))/n_r, plus
// gnorm_r·x̂_r (the gradient reaching n_r itself) when hasgnorm.
extern "C" __global__ void ml_row_normalize_backward(float *dx, const float *g, const float *x, const double *norm,
		const double *gnorm, int rows, int d, double scale, int hasgnorm, int acc) {
	int r = blockIdx.x;
	if (r >= rows)
		return;
	const float *xr = x + (long long)r * d, *gr = g + (long long)r * d;
	double n = norm[r], dot = 0;
	for (int j = threadIdx.x; j < d; j += blockDim.x)
		dot += (double)xr[j] / n * gr[j];
	dot = ml_block_sum(dot);
	double gn = hasgnorm ? gnorm[r] : 0;
	for (int j = threadIdx.x; j < d; j += blockDim.x) {
		double xh = (double)xr[j] / n;
		float v = (float)(scale * ((double)gr[j] - xh * dot) / n + gn * xh);
		long long o = (long long)r * d + j;
		dx[o] = acc ? dx[o] + v : v;
	}
}
`

const kernelMargin = `
// Target transforms ψ(c) and dψ/dc of the margin losses (losses/*.go),
// for c already clamped to [−1, 1]. kind: 0 none, 1 cosface, 2 arcface,
// 3 sphereface, 4 combined.
__device__ void ml_psi(int kind, double c, double m, double m1, double m2, double m3, int sphm, int easy,
		double lambda, double *psi, double *dpsi) {
	if (kind == 1) {
		*psi = c - m;
		*dpsi = 1;
	} else if (kind == 2) {
		int at = easy ? c > 0 : c > cos(ML_PI - m);
		if (!at) {
			*psi = easy ? c : c - m * sin(m);
			*dpsi = 1;
			return;
		}
		double s = sqrt(fmax(0.0, 1 - c * c));
		*psi = c * cos(m) - s * sin(m);
		*dpsi = cos(m) + sin(m) * c / fmax(1e-3, s);
	} else if (kind == 3) {
		int k = (int)floor(sphm * acos(c) / ML_PI);
		k = k < 0 ? 0 : (k > sphm - 1 ? sphm - 1 : k);
		double tp = 1, t = c, up = 0, u = 1;
		for (int i = 1; i < sphm; i++) {
			double tn = 2 * c * t - tp, un = 2 * c * u - up;
			tp = t;
			t = tn;
			up = u;
			u = un;
		}
		double sign = k % 2 == 1 ? -1 : 1;
		*psi = (lambda * c + sign * t - 2 * k) / (1 + lambda);
		*dpsi = (lambda + sign * sphm * u) / (1 + lambda);
	} else if (kind == 4) {
		double th0 = (ML_PI - m2) / m1;
		double thr = th0 >= ML_PI ? -2 : cos(th0);
		if (c <= thr) {
			*psi = c - m3 - fmax(m2 * sin(m2), 1 + cos(th0));
			*dpsi = 1;
			return;
		}
		double th = acos(c);
		*psi = cos(m1 * th + m2) - m3;
		// The slope's ratio at the angle whose sine is 1e-3 near θ = 0 or
		// π, numerator and denominator alike (losses.Combined.TargetDeriv):
		// m1² at θ = 0 with m2 = 0, 1 at θ = π for CosFace's (1, 0, m3).
		double lo = asin(1e-3), tc = fmax(lo, fmin(ML_PI - lo, th));
		*dpsi = m1 * sin(m1 * tc + m2) / sin(tc);
	} else {
		*psi = c;
		*dpsi = 1;
	}
}

// ml_margin_softmax is the margin-softmax family's loss and its gradient
// in one pass over each row (one block per row i of the N×C matrix a):
//
//	t_j = a_j, t_y = ψ(clamp(a_y)) (kind ≠ 0)
//	z_j = scale·t_j + b_j,   scale = s, or rownorm_i when featnorm
//	rowloss_i = log Σ_j e^{z_j} − z_y
//	da_j = (p_j − [j = y])/N · scale · (j = y ? ψ' : 1),   p = softmax(z)
//	gnorm_i = Σ_j (p_j − [j = y])/N · t_j   (featnorm: the gradient of rownorm_i)
//
// λ (sphereface) is read from scal, so that a captured graph follows the
// schedule.
extern "C" __global__ void ml_margin_softmax(float *da, double *rowloss, double *gnorm, const float *a,
		const float *labels, const float *bias, const double *rownorm, const float *scal, int n, int c, int hasbias,
		int featnorm, double s, int kind, double m, double m1, double m2, double m3, int sphm, int easy) {
	int i = blockIdx.x;
	if (i >= n)
		return;
	const float *row = a + (long long)i * c;
	int y = (int)labels[i];
	double scale = featnorm ? rownorm[i] : s;
	double ty = row[y], dpy = 1;
	if (kind != 0) {
		double cy = fmin(1.0, fmax(-1.0, ty));
		ml_psi(kind, cy, m, m1, m2, m3, sphm, easy, (double)scal[ML_SC_LAMBDA], &ty, &dpy);
	}
	double mx = -1e300;
	for (int j = threadIdx.x; j < c; j += blockDim.x) {
		double z = scale * (j == y ? ty : (double)row[j]) + (hasbias ? (double)bias[j] : 0.0);
		mx = fmax(mx, z);
	}
	mx = ml_block_max(mx);
	double se = 0;
	for (int j = threadIdx.x; j < c; j += blockDim.x) {
		double z = scale * (j == y ? ty : (double)row[j]) + (hasbias ? (double)bias[j] : 0.0);
		se += exp(z - mx);
	}
	se = ml_block_sum(se);
	double lse = mx + log(se), gn = 0;
	for (int j = threadIdx.x; j < c; j += blockDim.x) {
		double t = j == y ? ty : (double)row[j];
		double z = scale * t + (hasbias ? (double)bias[j] : 0.0);
		double g = (exp(z - lse) - (j == y ? 1.0 : 0.0)) / n;
		da[(long long)i * c + j] = (float)(g * scale * (j == y ? dpy : 1.0));
		gn += g * t;
	}
	gn = ml_block_sum(gn);
	if (threadIdx.x == 0) {
		rowloss[i] = lse - (scale * ty + (hasbias ? (double)bias[y] : 0.0));
		if (featnorm)
			gnorm[i] = gn;
	}
}

// ml_status writes the step's loss l as the float32 that the host reads,
// status[0], and whether that float32 is finite, status[1] (1, else 0: the
// optimisers skip the update then). Finite is the float32's, not l's: a
// loss above float32's largest value (3.4e38) is finite in float64 but
// +Inf to the host, which fails the step, so the update must not run.
__device__ void ml_status(float *status, double l) {
	float f = (float)l;
	status[0] = f;
	status[1] = f - f == 0 ? 1.0f : 0.0f; // finite: not NaN, not ±Inf
}

// ml_loss_mean: the loss Σ rowloss / n into status (ml_status). One block.
extern "C" __global__ void ml_loss_mean(float *status, const double *rowloss, int n) {
	double s = 0;
	for (int i = threadIdx.x; i < n; i += blockDim.x)
		s += rowloss[i];
	s = ml_block_sum(s);
	if (threadIdx.x == 0)
		ml_status(status, s / n);
}
`

const kernelPair = `
// ml_pair_prep: u_r = x_r/√(‖x_r‖² + 1e-12) and its norm (cosine), or u_r
// = x_r (euclidean), in float64; one block per row.
extern "C" __global__ void ml_pair_prep(double *u, double *norm, const float *x, int n, int d, int cosine) {
	int r = blockIdx.x;
	if (r >= n)
		return;
	double ss = 0;
	for (int j = threadIdx.x; j < d; j += blockDim.x)
		ss += (double)x[r * d + j] * x[r * d + j];
	ss = ml_block_sum(ss);
	double nrm = cosine ? sqrt(ss + 1e-12) : 1;
	for (int j = threadIdx.x; j < d; j += blockDim.x)
		u[r * d + j] = cosine ? (double)x[r * d + j] / nrm : (double)x[r * d + j];
	if (threadIdx.x == 0)
		norm[r] = nrm;
}

// ml_pair_dist: the N×N distances, 1 − u_i·u_j (cosine) or
// √(Σ(u_i − u_j)² + 1e-12) (euclidean), 0 on the diagonal; (i, j) and
// (j, i) are computed alike, lower index first.
extern "C" __global__ void ml_pair_dist(double *dm, const double *u, int n, int d, int cosine) {
	ML_FOR(k, n * n) {
		int i = k / n, j = k % n;
		int lo = i < j ? i : j, hi = i < j ? j : i;
		double s = 0;
		if (i != j) {
			for (int q = 0; q < d; q++) {
				if (cosine) {
					s += u[lo * d + q] * u[hi * d + q];
				} else {
					double t = u[lo * d + q] - u[hi * d + q];
					s += t * t;
				}
			}
			s = cosine ? 1 - s : sqrt(s + 1e-12);
		}
		dm[k] = s;
	}
}

// ml_contrastive: for i < j, with P = N(N−1)/2,
//
//	ℓ_ij = ½d² (same class), ½max(0, margin − d)² (otherwise)
//	gd_ij = d/P, or −max(0, margin − d)/P;   gd = 0 elsewhere
//
// rowsum_i = Σ_j ℓ_ij. One block per row.
extern "C" __global__ void ml_contrastive(double *gd, double *rowsum, const double *dm, const float *labels, int n, double margin) {
	int i = blockIdx.x;
	if (i >= n)
		return;
	double inv = 1.0 / ((double)n * (n - 1) / 2), sum = 0;
	for (int j = threadIdx.x; j < n; j += blockDim.x) {
		double g = 0;
		if (j > i) {
			double d = dm[i * n + j];
			if (labels[i] == labels[j]) {
				sum += d * d / 2;
				g = d * inv;
			} else if (margin - d > 0) {
				double h = margin - d;
				sum += h * h / 2;
				g = -h * inv;
			}
			sum += d - d; // NaN for a distance that is not a number (see ml_triplet)
		}
		gd[i * n + j] = g;
	}
	sum = ml_block_sum(sum);
	if (threadIdx.x == 0)
		rowsum[i] = sum;
}

// ml_triplet mines the triplets of anchor a (one block per anchor) and
// sums their hinges max(0, margin + d(a,p) − d(a,q)): rowsum_a and the
// number of triplets rowcount_a; cnt[a·N + p] counts the violated
// triplets using (a, p), cnt[a·N + q] minus those using (a, q). miner: 0
// all, 1 hard, 2 semihard, 3 easy (losses/miners.go); ties go to the
// first index. cnt must be zero before.
extern "C" __global__ void ml_triplet(int *cnt, double *rowsum, double *rowcount, const double *dm, const float *labels,
		int n, int miner, double margin) {
	int a = blockIdx.x;
	if (a >= n)
		return;
	const double *row = dm + a * n;
	float la = labels[a];
	double sum = 0, count = 0;
	if (miner == 1 || miner == 3) {
		if (threadIdx.x == 0) {
			int p = -1, q = -1;
			for (int j = 0; j < n; j++) {
				if (j == a)
					continue;
				if (labels[j] == la) {
					if (p < 0 || (miner == 1 && row[j] > row[p]) || (miner == 3 && row[j] < row[p]))
						p = j;
				} else if (q < 0 || row[j] < row[q]) {
					q = j;
				}
			}
			if (p >= 0 && q >= 0) {
				count = 1;
				double h = margin + row[p] - row[q];
				if (h > 0) {
					sum = h;
					cnt[a * n + p] += 1;
					cnt[a * n + q] -= 1;
				}
			}
		}
	} else {
		for (int p = threadIdx.x; p < n; p += blockDim.x) {
			if (p == a || labels[p] != la)
				continue;
			if (miner == 0) {
				for (int q = 0; q < n; q++) {
					if (labels[q] == la)
						continue;
					count += 1;
					double h = margin + row[p] - row[q];
					if (h > 0) {
						sum += h;
						cnt[a * n + p] += 1;
						atomicAdd(&cnt[a * n + q], -1);
					}
				}
				continue;
			}
			int semi = -1, far = -1;
			for (int q = 0; q < n; q++) {
				if (labels[q] == la)
					continue;
				if (row[q] > row[p] && (semi < 0 || row[q] < row[semi]))
					semi = q;
				if (far < 0 || row[q] > row[far])
					far = q;
			}
			int q = semi >= 0 ? semi : far;
			if (q >= 0) {
				count += 1;
				double h = margin + row[p] - row[q];
				if (h > 0) {
					sum += h;
					cnt[a * n + p] += 1;
					atomicAdd(&cnt[a * n + q], -1);
				}
			}
		}
	}
	// d − d is 0 for a number, NaN for NaN or ±Inf: a distance of an
	// embedding overflowed by too large a learning rate makes the loss NaN,
	// which fails the step; the miners' comparisons and the hinges are
	// false for NaN, and the loss was 0 (losses/distance.go).
	for (int j = threadIdx.x; j < n; j += blockDim.x)
		sum += row[j] - row[j];
	ml_block_sum2(&sum, &count);
	if (threadIdx.x == 0) {
		rowsum[a] = sum;
		rowcount[a] = count;
	}
}

// ml_pair_final: the loss Σ rowsum / T, T = Σ rowcount (triplet, when
// counted) or pairs (contrastive), into status (ml_status); tot[0] = 1/T
// (or 0). When T = 0 the sum holds only the rows' d − d, so the loss is 0,
// or NaN for a distance that is not a number (ml_triplet). One block.
extern "C" __global__ void ml_pair_final(float *status, double *tot, const double *rowsum, const double *rowcount,
		int n, int counted, double pairs) {
	double s = 0, t = 0;
	for (int i = threadIdx.x; i < n; i += blockDim.x) {
		s += rowsum[i];
		if (counted)
			t += rowcount[i];
	}
	ml_block_sum2(&s, &t);
	if (threadIdx.x == 0) {
		if (!counted)
			t = pairs;
		ml_status(status, t > 0 ? s / t : s);
		tot[0] = t > 0 ? 1 / t : 0;
	}
}

extern "C" __global__ void ml_triplet_grad(double *gd, const int *cnt, const double *tot, int nn) {
	ML_FOR(i, nn) gd[i] = cnt[i] * tot[0];
}

// ml_pair_backward: dx_i = Σ_{j≠i} (gd_ij + gd_ji)·∂d(x_i, x_j)/∂x_i, with
// ∂d/∂x_i = (x_i − x_j)/d (euclidean), or ∂d/∂u_i = −u_j followed by the
// normalisation's backward (g − u_i(u_i·g))/‖x_i‖ (cosine). One block per
// row; d ≤ 512.
extern "C" __global__ void ml_pair_backward(float *dx, const double *gd, const double *dm, const double *u,
		const double *norm, int n, int d, int cosine, int acc) {
	__shared__ double g[512];
	int i = blockIdx.x;
	if (i >= n)
		return;
	double ug = 0;
	for (int c = threadIdx.x; c < d; c += blockDim.x) {
		double s = 0;
		for (int j = 0; j < n; j++) {
			double w = gd[i * n + j] + gd[j * n + i];
			if (j == i || w == 0)
				continue;
			if (cosine)
				s -= w * u[j * d + c];
			else
				s += w / dm[i * n + j] * (u[i * d + c] - u[j * d + c]);
		}
		g[c] = s;
		ug += u[i * d + c] * s;
	}
	if (cosine)
		ug = ml_block_sum(ug);
	for (int c = threadIdx.x; c < d; c += blockDim.x) {
		float v = (float)(cosine ? (g[c] - u[i * d + c] * ug) / norm[i] : g[c]);
		dx[i * d + c] = acc ? dx[i * d + c] + v : v;
	}
}
`

const kernelOptim = `
// ml_flushed returns x, or 0 when x is subnormal: |x| below float32's
// smallest normal number, 2^−126. The optimisers' buffers flush as
// core/optim.go's do (a parameter whose gradient stays 0 would keep them a
// few multiples of the smallest subnormal, where β·x rounds back to x).
__device__ float ml_flushed(float x) {
	return fabsf(x) < 1.17549435e-38f ? 0.0f : x;
}

// ml_sgd (core/optim.go, float32): g' = g + wd·w (the first ndecay values
// only), v ← μ·v + g', w ← w − lr·v, v flushed to 0 when subnormal
// (ml_flushed). Skipped when the step's loss was not finite
// (status[1] = 0).
extern "C" __global__ void ml_sgd(float *w, const float *g, float *v, int n, int ndecay, const float *scal,
		const float *status, float mu, float wd) {
	if (status[1] == 0)
		return;
	float lr = scal[ML_SC_LR];
	ML_FOR(i, n) {
		float gj = g[i] + (i < ndecay ? wd : 0.0f) * w[i];
		float vj = ml_flushed(mu * v[i] + gj);
		v[i] = vj;
		w[i] -= lr * vj;
	}
}

// ml_adam (core/optim.go, float32): g' = g + wd·w, m ← β1·m + (1−β1)·g',
// v ← β2·v + (1−β2)·g'², w ← w − lrc·m/(sc·√v + ε), with lrc = lr/(1−β1ᵗ)
// and sc = 1/√(1−β2ᵗ) from scal; m and v flushed to 0 when subnormal
// (ml_flushed).
extern "C" __global__ void ml_adam(float *w, const float *g, float *m, float *v, int n, int ndecay, const float *scal,
		const float *status, float b1, float b2, float eps, float wd) {
	if (status[1] == 0)
		return;
	float lrc = scal[ML_SC_LRC], sc = scal[ML_SC_SC];
	ML_FOR(i, n) {
		float gj = g[i] + (i < ndecay ? wd : 0.0f) * w[i];
		float mj = ml_flushed(b1 * m[i] + (1 - b1) * gj);
		float vj = ml_flushed(b2 * v[i] + (1 - b2) * gj * gj);
		m[i] = mj;
		v[i] = vj;
		w[i] -= lrc * mj / (sc * sqrtf(vj) + eps);
	}
}
`
