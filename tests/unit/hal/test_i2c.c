/* test_i2c.c - the I2C front end, the i2c-dev back end's error paths, and
 * the emulated bus with its BME280 and SHT3x register-level emulators:
 * protocol, timing, faults (NACK, timeout, CRC, power-on, unplug/replug). */
#include <unistd.h>

#include "harness/nt.h"
#include "core/err.h"
#include "core/time.h"
#include "hal/hal_int.h"
#include "hal/i2c.h"
#include "hal/sim.h"

static void
sleep_ms(unsigned ms)
{
    usleep(ms * 1000);
}

static void
test_names_and_linux_errors(void)
{
    struct nano_i2c *i2c = (struct nano_i2c *)1;

    NT_EQ_INT(nano_i2c_open("", &i2c), -EINVAL);
    NT_CHECK(i2c == NULL);
    NT_EQ_INT(nano_i2c_open("spi0", &i2c), -EINVAL);
    NT_EQ_INT(nano_i2c_open("i2cX", &i2c), -EINVAL);
    NT_EQ_INT(nano_i2c_open("i2c-97", &i2c), -ENOENT);
    NT_EQ_INT(nano_i2c_open("i2c97", &i2c), -ENOENT);
    NT_EQ_INT(nano_i2c_open("/dev/null", &i2c), -ENOTTY);   /* not i2c-dev */
    NT_EQ_INT(nano_i2c_open("sim:nope", &i2c), -ENOENT);     /* no such bus */
    nano_i2c_close(NULL);
}

static void
test_error_mapping(void)
{
    NT_EQ_INT(hal__xfer_err(ENXIO), NANO_ENACK);
    NT_EQ_INT(hal__xfer_err(EREMOTEIO), NANO_ENACK);
    NT_EQ_INT(hal__xfer_err(ETIMEDOUT), NANO_ETIMEDOUT_DEV);
    NT_EQ_INT(hal__xfer_err(EIO), -EIO);
    NT_EQ_INT(hal__xfer_err(EAGAIN), -EAGAIN);
    NT_CHECK(NANO_ENACK != NANO_ETIMEDOUT_DEV);
}

static void
test_crc(void)
{
    /* Sensirion's example (SHT3x datasheet 4.12): 0xBEEF -> 0x92. */
    static const uint8_t beef[2] = { 0xBE, 0xEF };
    /* Maxim AN27 example ROM 02 1C B8 01 00 00 00 has CRC 0xA2. */
    static const uint8_t rom[7] = { 0x02, 0x1C, 0xB8, 0x01, 0x00, 0x00, 0x00 };

    /* The kernel's w1-therm documentation example scratchpad. */
    static const uint8_t sp[8] = { 0x72, 0x01, 0x4b, 0x46, 0x7f, 0xff, 0x0e, 0x10 };

    NT_EQ_INT(hal__crc8(beef, 2, 0x31, 0xFF), 0x92);
    NT_EQ_INT(hal__crc8_maxim(sp, 8), 0x57);
    NT_EQ_INT(hal__crc8_maxim(rom, 7), 0xA2);
}

static void
test_argument_checks(void)
{
    struct nano_i2c *i2c;
    struct nano_i2c_msg m[NANO_I2C_MAX_MSGS + 1];
    uint8_t b[4] = { 0 };

    NT_ASSERT(nano_sim_add("i2c1", "bme280", "0x76") == NANO_OK);
    NT_ASSERT(nano_i2c_open("sim:i2c1", &i2c) == NANO_OK);
    NT_EQ_STR(nano_i2c_name(i2c), "sim:i2c1");
    for (unsigned i = 0; i < NANO_ARRAY_LEN(m); i++)
        m[i] = (struct nano_i2c_msg){ 0x76, NANO_I2C_M_RD, 1, b };
    NT_EQ_INT(nano_i2c_transfer(i2c, m, 0), -EINVAL);
    NT_EQ_INT(nano_i2c_transfer(i2c, m, NANO_I2C_MAX_MSGS + 1), -EINVAL);
    m[0].addr = 0x80;
    NT_EQ_INT(nano_i2c_transfer(i2c, m, 1), -EINVAL);        /* 8-bit address */
    NT_EQ_INT(nano_i2c_read(i2c, 0x76, b, 0), -EINVAL);
    NT_EQ_INT(nano_i2c_read(i2c, 0x77, b, 1), NANO_ENACK);   /* nobody there */
    NT_EQ_INT(nano_i2c_set_timeout(i2c, 50), NANO_OK);
    nano_i2c_close(i2c);
    nano_sim_reset();
}

static void
test_bme280_registers(void)
{
    struct nano_i2c *i2c;
    uint8_t id, cal[26], cal2[7], data[8];

    NT_ASSERT(nano_sim_add("i2c1", "bme280", "0x76") == NANO_OK);
    NT_EQ_INT(nano_sim_add("i2c1", "bme280", "0x76"), NANO_EEXISTS);
    NT_EQ_INT(nano_sim_add("i2c1", "nosuch", "0x77"), NANO_ENOTFOUND);
    NT_EQ_INT(nano_sim_add("i2c1", "bme280", "0x99"), -EINVAL);
    NT_EQ_INT(nano_sim_add("i2c1", "mcp3008", "0"), -EINVAL);  /* SPI on I2C */
    NT_ASSERT(nano_i2c_open("sim:i2c1", &i2c) == NANO_OK);

    NT_EQ_INT(nano_i2c_read_reg(i2c, 0x76, 0xD0, &id, 1), NANO_OK);
    NT_EQ_INT(id, 0x60);
    NT_EQ_INT(nano_i2c_read_reg(i2c, 0x76, 0x88, cal, sizeof cal), NANO_OK);
    NT_EQ_INT(cal[0] | cal[1] << 8, 27504);                  /* dig_T1 */
    NT_EQ_INT((int16_t)(cal[22] | cal[23] << 8), 6000);      /* dig_P9 */
    NT_EQ_INT(nano_i2c_read_reg(i2c, 0x76, 0xE1, cal2, sizeof cal2), NANO_OK);
    NT_EQ_INT(cal2[0] | cal2[1] << 8, 362);                  /* dig_H2 */

    /* Reset values of the data registers: 0x80000 / 0x8000. */
    NT_EQ_INT(nano_i2c_read_reg(i2c, 0x76, 0xF7, data, 8), NANO_OK);
    NT_EQ_INT(data[0], 0x80);
    NT_EQ_INT(data[3], 0x80);
    NT_EQ_INT(data[6], 0x80);

    /* Forced mode, x1 everywhere: measuring for ~8 ms, then data, then
     * sleep mode again. */
    NT_ASSERT(nano_sim_bme280_set_raw("i2c1", 0x76, 519888, 415148, 30000) == NANO_OK);
    uint8_t w[4] = { 0xF2, 0x01, 0xF4, 0x25 };
    uint8_t st;
    NT_EQ_INT(nano_i2c_write(i2c, 0x76, w, 4), NANO_OK);
    NT_EQ_INT(nano_i2c_read_reg(i2c, 0x76, 0xF3, &st, 1), NANO_OK);
    NT_CHECK(st & 0x08);                                     /* measuring */
    sleep_ms(12);
    NT_EQ_INT(nano_i2c_read_reg(i2c, 0x76, 0xF3, &st, 1), NANO_OK);
    NT_EQ_INT(st & 0x08, 0);
    NT_EQ_INT(nano_i2c_read_reg(i2c, 0x76, 0xF7, data, 8), NANO_OK);
    NT_EQ_INT((uint32_t)data[0] << 12 | data[1] << 4 | data[2] >> 4, 415148);
    NT_EQ_INT((uint32_t)data[3] << 12 | data[4] << 4 | data[5] >> 4, 519888);
    NT_EQ_INT(data[6] << 8 | data[7], 30000);
    NT_EQ_INT(nano_i2c_read_reg(i2c, 0x76, 0xF4, &st, 1), NANO_OK);
    NT_EQ_INT(st & 3, 0);                                    /* back to sleep */

    /* Humidity oversampling 0 skips humidity: 0x8000. */
    uint8_t w2[4] = { 0xF2, 0x00, 0xF4, 0x25 };
    NT_EQ_INT(nano_i2c_write(i2c, 0x76, w2, 4), NANO_OK);
    sleep_ms(10);
    NT_EQ_INT(nano_i2c_read_reg(i2c, 0x76, 0xF7, data, 8), NANO_OK);
    NT_EQ_INT(data[6] << 8 | data[7], 0x8000);

    /* Soft reset restores power-on values but keeps the calibration. */
    NT_EQ_INT(nano_i2c_write_reg(i2c, 0x76, 0xE0, 0xB6), NANO_OK);
    NT_EQ_INT(nano_i2c_read_reg(i2c, 0x76, 0xF7, data, 8), NANO_OK);
    NT_EQ_INT(data[3], 0x80);
    NT_EQ_INT(nano_i2c_read_reg(i2c, 0x76, 0x88, cal, 2), NANO_OK);
    NT_EQ_INT(cal[0] | cal[1] << 8, 27504);
    nano_i2c_close(i2c);
    nano_sim_reset();
}

static void
test_bme280_environment(void)
{
    double v;

    NT_ASSERT(nano_sim_add("i2c1", "bme280", "0x77") == NANO_OK);
    NT_EQ_INT(nano_sim_bme280_set_env("i2c1", 0x77, 21.5, 40.0, 1013.25), NANO_OK);
    NT_EQ_INT(nano_sim_get("i2c1", "0x77", "temperature", &v), NANO_OK);
    NT_NEAR(v, 21.5, 1e-9);
    NT_EQ_INT(nano_sim_i2c_set("i2c1", 0x77, "humidity", 55.0), NANO_OK);
    NT_EQ_INT(nano_sim_get("i2c1", "0x77", "humidity", &v), NANO_OK);
    NT_NEAR(v, 55.0, 1e-9);
    NT_EQ_INT(nano_sim_set("i2c1", "0x77", "temperature", 1000), -ERANGE);
    NT_EQ_INT(nano_sim_set("i2c1", "0x77", "pressure", -5), -ERANGE);
    NT_EQ_INT(nano_sim_set("i2c1", "0x77", "colour", 1), -EINVAL);
    NT_EQ_INT(nano_sim_set("i2c1", "0x42", "temperature", 1), NANO_ENOTFOUND);
    NT_EQ_INT(nano_sim_set("i2c1", "0x77", "raw_temperature", 0x100000), -ERANGE);
    nano_sim_reset();
}

static void
test_faults(void)
{
    struct nano_i2c *i2c;
    uint8_t id;

    NT_ASSERT(nano_sim_add("i2c1", "bme280", "0x76") == NANO_OK);
    NT_ASSERT(nano_i2c_open("sim:i2c1", &i2c) == NANO_OK);

    NT_EQ_INT(nano_sim_i2c_fault("i2c1", 0x76, NANO_SIM_FAULT_NACK, 2), NANO_OK);
    NT_EQ_INT(nano_i2c_read_reg(i2c, 0x76, 0xD0, &id, 1), NANO_ENACK);
    NT_EQ_INT(nano_i2c_read_reg(i2c, 0x76, 0xD0, &id, 1), NANO_ENACK);
    NT_EQ_INT(nano_i2c_read_reg(i2c, 0x76, 0xD0, &id, 1), NANO_OK);  /* 2 used */

    NT_EQ_INT(nano_sim_i2c_fault("i2c1", 0x76, NANO_SIM_FAULT_TIMEOUT, -1), NANO_OK);
    for (int i = 0; i < 3; i++)
        NT_EQ_INT(nano_i2c_read_reg(i2c, 0x76, 0xD0, &id, 1), NANO_ETIMEDOUT_DEV);
    NT_EQ_INT(nano_sim_i2c_fault("i2c1", 0x76, NANO_SIM_FAULT_NONE, -1), NANO_OK);
    NT_EQ_INT(nano_i2c_read_reg(i2c, 0x76, 0xD0, &id, 1), NANO_OK);

    /* No checksum on a BME280: corruption shows as wrong bits. */
    NT_EQ_INT(nano_sim_i2c_fault("i2c1", 0x76, NANO_SIM_FAULT_CRC, 1), NANO_OK);
    NT_EQ_INT(nano_i2c_read_reg(i2c, 0x76, 0xD0, &id, 1), NANO_OK);
    NT_CHECK(id != 0x60);

    /* Unplug: NACK until replugged; replug comes back in reset state. */
    uint8_t w[2] = { 0xF4, 0x27 };                 /* normal mode */
    NT_EQ_INT(nano_i2c_write(i2c, 0x76, w, 2), NANO_OK);
    NT_EQ_INT(nano_sim_unplug("i2c1", "0x76"), NANO_OK);
    NT_EQ_INT(nano_i2c_read_reg(i2c, 0x76, 0xD0, &id, 1), NANO_ENACK);
    uint64_t before = nano_sim_transactions("i2c1", "0x76");
    NT_EQ_INT(nano_i2c_read_reg(i2c, 0x76, 0xD0, &id, 1), NANO_ENACK);
    NT_EQ_INT(nano_sim_transactions("i2c1", "0x76"), before + 1);
    NT_EQ_INT(nano_sim_replug("i2c1", "0x76"), NANO_OK);
    NT_EQ_INT(nano_i2c_read_reg(i2c, 0x76, 0xF4, &id, 1), NANO_OK);
    NT_EQ_INT(id, 0);

    /* Removing the device: the next transfer finds nobody. */
    NT_EQ_INT(nano_sim_remove("i2c1", "0x76"), NANO_OK);
    NT_EQ_INT(nano_sim_remove("i2c1", "0x76"), NANO_ENOTFOUND);
    NT_EQ_INT(nano_i2c_read_reg(i2c, 0x76, 0xD0, &id, 1), NANO_ENACK);
    nano_i2c_close(i2c);
    nano_sim_reset();
    NT_EQ_INT(nano_sim_fault("i2c1", "0x76", NANO_SIM_FAULT_NACK, 1), NANO_ENOTFOUND);
}

static void
test_sht3x_protocol(void)
{
    struct nano_i2c *i2c;
    uint8_t cmd[2] = { 0x24, 0x00 }, r[6];

    NT_ASSERT(nano_sim_add("i2c2", "sht3x", "0x44") == NANO_OK);
    NT_ASSERT(nano_sim_set("i2c2", "0x44", "temperature", 25.0) == NANO_OK);
    NT_ASSERT(nano_sim_set("i2c2", "0x44", "humidity", 50.0) == NANO_OK);
    NT_ASSERT(nano_i2c_open("sim:i2c2", &i2c) == NANO_OK);

    NT_EQ_INT(nano_i2c_read(i2c, 0x44, r, 6), NANO_ENACK);   /* nothing pending */
    NT_EQ_INT(nano_i2c_write(i2c, 0x44, cmd, 2), NANO_OK);
    NT_EQ_INT(nano_i2c_read(i2c, 0x44, r, 6), NANO_ENACK);   /* still measuring */
    sleep_ms(16);
    NT_EQ_INT(nano_i2c_read(i2c, 0x44, r, 6), NANO_OK);
    NT_EQ_INT(hal__crc8(r, 2, 0x31, 0xFF), r[2]);
    NT_EQ_INT(hal__crc8(r + 3, 2, 0x31, 0xFF), r[5]);
    NT_NEAR(-45 + 175.0 * (r[0] << 8 | r[1]) / 65535, 25.0, 0.005);
    NT_NEAR(100.0 * (r[3] << 8 | r[4]) / 65535, 50.0, 0.005);
    NT_EQ_INT(nano_i2c_read(i2c, 0x44, r, 6), NANO_ENACK);   /* consumed */

    /* Clock-stretching command: answers at once. */
    uint8_t cs[2] = { 0x2C, 0x06 };
    NT_EQ_INT(nano_i2c_write(i2c, 0x44, cs, 2), NANO_OK);
    NT_EQ_INT(nano_i2c_read(i2c, 0x44, r, 6), NANO_OK);

    /* CRC fault: both checksums wrong for one transaction. */
    NT_EQ_INT(nano_i2c_write(i2c, 0x44, cs, 2), NANO_OK);
    NT_EQ_INT(nano_sim_fault("i2c2", "0x44", NANO_SIM_FAULT_CRC, 1), NANO_OK);
    NT_EQ_INT(nano_i2c_read(i2c, 0x44, r, 6), NANO_OK);
    NT_CHECK(hal__crc8(r, 2, 0x31, 0xFF) != r[2]);
    NT_CHECK(hal__crc8(r + 3, 2, 0x31, 0xFF) != r[5]);

    /* Unknown command and a one-byte write are not acknowledged. */
    uint8_t bad[2] = { 0x12, 0x34 };
    NT_EQ_INT(nano_i2c_write(i2c, 0x44, bad, 2), NANO_ENACK);
    NT_EQ_INT(nano_i2c_write(i2c, 0x44, bad, 1), NANO_ENACK);

    /* Status register with its CRC. */
    uint8_t st[2] = { 0xF3, 0x2D };
    NT_EQ_INT(nano_i2c_write(i2c, 0x44, st, 2), NANO_OK);
    NT_EQ_INT(nano_i2c_read(i2c, 0x44, r, 3), NANO_OK);
    NT_EQ_INT(hal__crc8(r, 2, 0x31, 0xFF), r[2]);
    nano_i2c_close(i2c);
    nano_sim_reset();
}

NT_LIST = {
    { "names_and_linux_errors", test_names_and_linux_errors },
    { "error_mapping",          test_error_mapping },
    { "crc",                    test_crc },
    { "argument_checks",        test_argument_checks },
    { "bme280_registers",       test_bme280_registers },
    { "bme280_environment",     test_bme280_environment },
    { "faults",                 test_faults },
    { "sht3x_protocol",         test_sht3x_protocol },
    { NULL, NULL }
};
