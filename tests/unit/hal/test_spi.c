/* test_spi.c - the SPI front end, spidev error paths, and the emulated
 * MCP3008: frame format, single-ended and differential channels, clamping,
 * faults (MISO high, garbled frame, timeout, unplug). */
#include "harness/nt.h"
#include "core/err.h"
#include "hal/sim.h"
#include "hal/spi.h"

static unsigned
convert(struct nano_spi *spi, unsigned sel, int *rc)
{
    uint8_t tx[3] = { 0x01, (uint8_t)(sel << 4), 0 }, rx[3];

    *rc = nano_spi_transfer(spi, tx, rx, 3);
    if (rx[1] & 0x04)
        return 0xFFFF;                     /* null bit set: not a frame */
    return (unsigned)(rx[1] & 3) << 8 | rx[2];
}

static void
test_names_and_linux_errors(void)
{
    struct nano_spi *spi;
    struct nano_spi_cfg bad = { 1000000, 4, 8 };

    NT_EQ_INT(nano_spi_open("spidev9.9", NULL, &spi), -ENOENT);
    NT_EQ_INT(nano_spi_open("spi9.9", NULL, &spi), -ENOENT);
    NT_EQ_INT(nano_spi_open("spidev0", NULL, &spi), -EINVAL);
    NT_EQ_INT(nano_spi_open("i2c1", NULL, &spi), -EINVAL);
    NT_EQ_INT(nano_spi_open("/dev/null", NULL, &spi), -ENOTTY);
    NT_EQ_INT(nano_spi_open("sim:spi0.0", &bad, &spi), -EINVAL);   /* mode 4 */
    NT_EQ_INT(nano_spi_open("sim:spi0.0", NULL, &spi), -ENOENT);
    NT_EQ_INT(nano_spi_open("sim:spi0", NULL, &spi), -EINVAL);
    NT_CHECK(spi == NULL);
}

static void
test_mcp3008_conversions(void)
{
    struct nano_spi *spi;
    int rc;

    NT_ASSERT(nano_sim_add("spi0", "mcp3008", "0") == NANO_OK);
    NT_ASSERT(nano_spi_open("sim:spi0.0", NULL, &spi) == NANO_OK);
    NT_EQ_STR(nano_spi_name(spi), "sim:spi0.0");
    NT_ASSERT(nano_sim_set("spi0", "0", "ch0", 1.65) == NANO_OK);
    NT_ASSERT(nano_sim_set("spi0", "0", "ch1", 0.5) == NANO_OK);
    NT_ASSERT(nano_sim_set("spi0", "0", "ch7", 9.0) == -ERANGE);
    NT_ASSERT(nano_sim_set("spi0", "0", "ch8", 1.0) == -EINVAL);

    NT_EQ_INT(convert(spi, 0x8 | 0, &rc), 512);          /* 1.65 / 3.3 * 1024 */
    NT_EQ_INT(rc, NANO_OK);
    NT_EQ_INT(convert(spi, 0x8 | 1, &rc), 155);          /* 0.5 / 3.3 * 1024 */
    NT_EQ_INT(convert(spi, 0x8 | 2, &rc), 0);
    /* Differential CH0-CH1 and the reverse pair, which clamps at 0. */
    NT_EQ_INT(convert(spi, 0, &rc), 356);                /* 1.15 V */
    NT_EQ_INT(convert(spi, 1, &rc), 0);
    /* Full scale clamps at 1023; a lower reference rescales. */
    NT_ASSERT(nano_sim_set("spi0", "0", "ch3", 5.0) == NANO_OK);
    NT_EQ_INT(convert(spi, 0x8 | 3, &rc), 1023);
    NT_ASSERT(nano_sim_set("spi0", "0", "vref", 2.048) == NANO_OK);
    NT_EQ_INT(convert(spi, 0x8 | 1, &rc), 250);

    /* No start bit: all ones. */
    uint8_t tx[3] = { 0x00, 0x80, 0 }, rx[3];
    NT_EQ_INT(nano_spi_transfer(spi, tx, rx, 3), NANO_OK);
    NT_EQ_INT(rx[1], 0xFF);
    NT_EQ_INT(nano_spi_transfer(spi, tx, rx, 0), -EINVAL);
    NT_EQ_INT(nano_spi_transfer(spi, NULL, NULL, 3), NANO_OK);
    nano_spi_close(spi);
    nano_sim_reset();
}

static void
test_mcp3008_faults(void)
{
    struct nano_spi *spi, *other;
    int rc;

    NT_ASSERT(nano_sim_add("spi0", "mcp3008", "1") == NANO_OK);
    NT_ASSERT(nano_sim_set("spi0", "1", "ch0", 1.0) == NANO_OK);
    NT_ASSERT(nano_spi_open("sim:spi0.1", NULL, &spi) == NANO_OK);
    NT_ASSERT(nano_spi_open("sim:spi0.0", NULL, &other) == NANO_OK);

    NT_EQ_INT(convert(other, 0x8, &rc), 0xFFFF);         /* nobody on CS0 */

    NT_EQ_INT(nano_sim_fault("spi0", "1", NANO_SIM_FAULT_CRC, 1), NANO_OK);
    NT_EQ_INT(convert(spi, 0x8, &rc), 0xFFFF);
    NT_EQ_INT(convert(spi, 0x8, &rc), 310);

    NT_EQ_INT(nano_sim_fault("spi0", "1", NANO_SIM_FAULT_TIMEOUT, 1), NANO_OK);
    convert(spi, 0x8, &rc);
    NT_EQ_INT(rc, NANO_ETIMEDOUT_DEV);

    NT_EQ_INT(nano_sim_unplug("spi0", "1"), NANO_OK);
    NT_EQ_INT(convert(spi, 0x8, &rc), 0xFFFF);
    NT_EQ_INT(rc, NANO_OK);                              /* SPI cannot tell */
    NT_EQ_INT(nano_sim_replug("spi0", "1"), NANO_OK);
    NT_EQ_INT(convert(spi, 0x8, &rc), 310);              /* values survive */
    nano_spi_close(spi);
    nano_spi_close(other);
    nano_sim_reset();
}

NT_LIST = {
    { "names_and_linux_errors", test_names_and_linux_errors },
    { "mcp3008_conversions",    test_mcp3008_conversions },
    { "mcp3008_faults",         test_mcp3008_faults },
    { NULL, NULL }
};
