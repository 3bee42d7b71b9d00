"""Random variates the array API has no sampler for (gamma, binomial), and the
implicit-reparameterization gradients of gamma and beta samples. `Backend` binds these functions
as methods.

Draws come from the library's own generator: NumPy's `Generator` (PCG64) for the CPU and, drawn
on the host and moved over, for array-api-strict; CuPy's `Generator` on CUDA (the CuPy backend
overrides `variates`). Both libraries name the samplers alike (`standard_gamma`, `binomial`)
and take arrays of parameters, so one name selects the sampler on every backend.

The gradients are elementwise approximations (Jankowiak and Obermeyer, "Pathwise Derivatives
Beyond the Reparameterization Trick", 2018), PyTorch's, computed here in float64 from array
primitives, every branch on the whole array and the right one picked with `where`.
"""

from __future__ import annotations

from typing import Any

Array = Any

__all__ = ["SAMPLERS", "dirichlet_grad", "standard_gamma_grad", "variates"]

# The samplers `variates` may name.
SAMPLERS = frozenset({"standard_gamma", "binomial"})


def variates(self: Any, sampler: str, *parameters: Array, generator: Any = None) -> Array:
    """Draws of `sampler` (one of SAMPLERS: NumPy's Generator method of that name) with the
    parameter arrays (broadcast together, valid for the sampler), as float64 on this device.
    The generic form draws on the host with a `HostGenerator` (`generator`, or this device's
    default one)."""
    import numpy

    if sampler not in SAMPLERS:
        raise ValueError(f"no sampler named {sampler!r}")
    host = (self.default_generator if generator is None else generator).numpy
    drawn = getattr(host, sampler)(*(self.to_numpy(parameter) for parameter in parameters))
    return self.from_numpy(numpy.asarray(drawn, dtype=numpy.float64))


# ----------------------------------------------------------------------------- gamma
# The rational approximation of d x / d alpha in (log(x / alpha), log(alpha)), by powers of
# log(x / alpha) (rows) for the numerator's four and the denominator's four coefficients.
_GAMMA_RATIONAL = (
    (0.16009398, -0.094634809, 0.025146376, -0.0030648343,
     1.0, 0.32668115, 0.10406089, 0.0014179084),
    (0.53487893, 0.1298071, 0.065735949, -0.0015649758,
     0.16639465, 0.020070113, -0.0035938915, -0.00058392623),
    (0.040121004, -0.0065914022, -0.0026286047, -0.0013441777,
     0.017050642, -0.0021309326, 0.00085092367, -1.5247877e-07),
)


def standard_gamma_grad(self: Any, alpha: Array, x: Array) -> Array:
    """d x / d alpha for x drawn from Gamma(alpha, 1), holding the uniform noise fixed:
    -(d/d alpha CDF(x; alpha)) / pdf(x; alpha). A Taylor series for x < 0.8, Rice's saddle
    point expansion for alpha > 8, a rational approximation otherwise. Float64 arrays in,
    float64 out."""
    xp = self.xp
    # Small x: the CDF is x^alpha sum_k (-x)^k / (k! (alpha + k)); its alpha-derivative adds
    # (log x - digamma(alpha)) and the series with squared denominators.
    numer = xp.ones_like(x)
    denom = alpha
    series1 = numer / denom
    series2 = numer / (denom * denom)
    for i in range(1, 6):
        numer = numer * (-x / i)
        denom = denom + 1
        series1 = series1 + numer / denom
        series2 = series2 + numer / (denom * denom)
    pow_x_alpha = x ** alpha
    pdf = x ** (alpha - 1) * xp.exp(-x)
    cdf = pow_x_alpha * series1
    cdf_alpha = (xp.log(x) - self.psi(alpha)) * cdf - pow_x_alpha * series2
    taylor = -cdf_alpha / pdf
    taylor = xp.where(xp.isnan(taylor), xp.zeros_like(taylor), taylor)

    # Large alpha, near the mode: a polynomial avoids the expansion's 0/0 at x = alpha.
    numer_1 = 1 + 24 * alpha * (1 + 12 * alpha)
    numer_2 = (1440 * (alpha * alpha) + 6 * x * (53 - 120 * x) - 65 * x * x / alpha
               + alpha * (107 + 3600 * x))
    near_mode = numer_1 * numer_2 / (1244160 * (alpha * alpha) * (alpha * alpha))
    # Large alpha elsewhere.
    root = xp.sqrt(8 * alpha)
    term2 = root / (alpha - x)
    term3 = (x - alpha - alpha * xp.log(x / alpha)) ** -1.5
    term23 = xp.where(x < alpha, term2 - term3, term2 + term3)
    term1 = (xp.log(x / alpha) * term23
             - xp.sqrt(2 / alpha) * (alpha + x) / ((alpha - x) * (alpha - x)))
    stirling = 1 + 1 / (12 * alpha) * (1 + 1 / (24 * alpha))
    saddle = -stirling * x * term1 / root
    saddle = xp.where((0.9 * alpha <= x) & (x <= 1.1 * alpha), near_mode, saddle)

    u = xp.log(x / alpha)
    v = xp.log(alpha)
    coef = [low + u * (mid + u * high) for low, mid, high in zip(*_GAMMA_RATIONAL)]
    p = coef[0] + v * (coef[1] + v * (coef[2] + v * coef[3]))
    q = coef[4] + v * (coef[5] + v * (coef[6] + v * coef[7]))
    rational = xp.exp(p / q)

    return xp.where(x < 0.8, taylor, xp.where(alpha > 8, saddle, rational))


# ----------------------------------------------------------------------------- beta
# The rational correction for dirichlet_grad: c[numerator or denominator][power of
# u = log x][power of a = log(alpha / x)] holds a cubic in b = log(total) - a.
_BETA_RATIONAL = (
    (((1.003668233, -0.01061107488, -0.0657888334, 0.01201642863),
      (0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033),
      (-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013)),
     ((0.221950385, -0.3187676331, 0.01799915743, 0.01074823814),
      (-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057),
      (0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05)),
     ((-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565),
      (0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181),
      (0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05))),
    (((1.0, -0.02924021934, -0.04438342661, 0.007285809825),
      (0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521),
      (-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149)),
     ((0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273),
      (0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956),
      (-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05)),
     ((0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05),
      (0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05),
      (-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06))),
)


def _beta_grad_alpha_small(self: Any, x: Array, alpha: Array, beta: Array) -> Array:
    """d x / d alpha for x ~ Beta(alpha, beta) near 0: a Taylor series in x."""
    xp = self.xp
    factor = self.psi(alpha) - self.psi(alpha + beta) - xp.log(x)
    numer = xp.ones_like(x)
    series = numer / alpha * (factor + 1 / alpha)
    for i in range(1, 11):
        numer = numer * ((i - beta) * x / i)
        denom = alpha + i
        series = series + numer / denom * (factor + 1 / denom)
    result = x * (1 - x) ** -beta * series
    return xp.where(xp.isnan(result), xp.zeros_like(result), result)


def _beta_grad_beta_small(self: Any, x: Array, alpha: Array, beta: Array) -> Array:
    """d x / d beta for x ~ Beta(alpha, beta) near 0: a Taylor series in x."""
    xp = self.xp
    factor = self.psi(alpha + beta) - self.psi(beta)
    numer = xp.ones_like(x)
    betas = xp.ones_like(x)
    dbetas = xp.zeros_like(x)
    series = factor / alpha
    for i in range(1, 9):
        numer = numer * (-x / i)
        dbetas = dbetas * (beta - i) + betas
        betas = betas * (beta - i)
        series = series + numer / (alpha + i) * (dbetas + factor * betas)
    result = -(1 - x) ** (1 - beta) * series
    return xp.where(xp.isnan(result), xp.zeros_like(result), result)


def _beta_grad_alpha_mid(self: Any, x: Array, alpha: Array, beta: Array) -> Array:
    """d x / d alpha for alpha and beta both large: Rice's saddle point expansion, with a
    polynomial within a tenth of a standard deviation of the mean (the expansion's 0/0)."""
    xp = self.xp
    total = alpha + beta
    mean = alpha / total
    std = xp.sqrt(alpha * beta / (total + 1)) / total
    poly = 47 * x * (beta * beta) * (beta * beta) + alpha * (
        (43 + 20 * (16 + 27 * beta) * x) * (beta * beta) * beta + alpha * (
            3 * (59 + 180 * beta - 90 * x) * (beta * beta) + alpha * (
                (453 + 1620 * beta * (1 - x) - 455 * x) * beta + alpha * (
                    8 * (1 - x) * (135 * beta - 11)))))
    prefactor_num = (1 + 12 * alpha) * (1 + 12 * beta) / (total * total)
    prefactor_den = 12960 * alpha * alpha * alpha * beta * beta * (1 + 12 * total)
    near_mean = prefactor_num / (1 - x) * poly / prefactor_den

    prefactor = -x / xp.sqrt(2 * alpha * beta / total)
    stirling = ((1 + 1 / (12 * alpha) + 1 / (288 * alpha * alpha))
                * (1 + 1 / (12 * beta) + 1 / (288 * beta * beta))
                / (1 + 1 / (12 * total) + 1 / (288 * total * total)))
    term1_num = 2 * (alpha * alpha) * (x - 1) + alpha * beta * (x - 1) - x * (beta * beta)
    axbx = alpha * (x - 1) + beta * x
    term1_den = xp.sqrt(2 * alpha / beta) * total ** 1.5 * axbx * axbx
    term1 = term1_num / term1_den
    term2 = 0.5 * xp.log(alpha / (total * x))
    term3 = xp.sqrt(8 * alpha * beta / total) / (beta * x + alpha * (x - 1))
    term4 = (beta * xp.log(beta / (total * (1 - x)))
             + alpha * xp.log(alpha / (total * x))) ** -1.5
    term1234 = term1 + term2 * (term3 + xp.where(x < mean, term4, -term4))
    saddle = stirling * prefactor * term1234
    return xp.where((mean - 0.1 * std <= x) & (x <= mean + 0.1 * std), near_mean, saddle)


def dirichlet_grad(self: Any, x: Array, alpha: Array, total: Array) -> Array:
    """-(d/d alpha CDF(x; alpha, beta)) / pdf(x; alpha, beta) / (1 - x) for x drawn from
    Beta(alpha, beta), beta = total - alpha (written with the total so that a Dirichlet's
    gradient is its marginal Betas'). Float64 arrays in, float64 out."""
    xp = self.xp
    beta = total - alpha
    boundary = total * x * (1 - x)
    near_zero = _beta_grad_alpha_small(self, x, alpha, beta)
    near_one = -_beta_grad_beta_small(self, 1 - x, beta, alpha)
    both_large = _beta_grad_alpha_mid(self, x, alpha, beta)

    # Elsewhere a rational correction to x (digamma(total) - digamma(alpha)) / beta.
    u = xp.log(x)
    a = xp.log(alpha) - u
    b = xp.log(total) - a
    p = xp.zeros_like(x)
    q = xp.zeros_like(x)
    powers_u = (1, u, u * u)
    powers_a = (1, a, a * a)
    for i in range(3):
        for j in range(3):
            ua = powers_u[i] * powers_a[j]
            cp, cq = _BETA_RATIONAL[0][i][j], _BETA_RATIONAL[1][i][j]
            p = p + ua * (cp[0] + b * (cp[1] + b * (cp[2] + b * cp[3])))
            q = q + ua * (cq[0] + b * (cq[1] + b * (cq[2] + b * cq[3])))
    approx = x * (self.psi(total) - self.psi(alpha)) / beta
    rational = p / q * approx

    return xp.where(
        (x <= 0.5) & (boundary < 2.5), near_zero,
        xp.where((x >= 0.5) & (boundary < 0.75), near_one,
                 xp.where((alpha > 6) & (beta > 6), both_large, rational)))
