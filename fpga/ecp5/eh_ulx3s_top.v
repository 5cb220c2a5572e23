// ULX3S (Lattice ECP5 LFE5U-85F) top of the edgehost SoC: 25 MHz clock, the same SoC as the
// RTL-simulated board rv32-sim (PicoRV32 with its custom unit, 64-bit counters, barrel shifter),
// so cycle counts match rv32-sim's; 256 KiB of RAM in block RAM (128 DP16KD) at 0x8000_0000,
// the UART boot ROM (fpga/boot/boot.S) at 0x0000_0000 (the reset vector), the UART on the
// FT231X (115200 8N1). LEDs: 0 = running, 7 = CPU trap. wifi_gpio0 is held high so the ESP32
// does not reset the board. Smaller ECP5 parts (12F/25F/45F) need RAM_ADDR_BITS 16 (64 KiB).
`default_nettype none
module eh_ulx3s_top (
    input  wire       clk_25mhz,
    input  wire       ftdi_txd,     // from the FT231X: the FPGA's receive line
    output wire       ftdi_rxd,     // to the FT231X: the FPGA's transmit line
    input  wire [6:0] btn,          // btn[0]: PWR (active low), held = reset
    output wire [7:0] led,
    output wire       wifi_gpio0
);
    parameter BOOTROM_HEX = "boot.hex";
    parameter integer CLKS_PER_BIT = 217;    // 25 MHz / 115200 (tests simulate a faster line)
    parameter integer RAM_ADDR_BITS = 18;    // 256 KiB

    reg [5:0] por = 0;
    wire resetn = &por;
    always @(posedge clk_25mhz) begin
        if (!btn[0]) por <= 0;
        else if (!resetn) por <= por + 1;
    end

    wire        ram_en;
    wire [3:0]  ram_we;
    wire [RAM_ADDR_BITS-3:0] ram_addr;
    wire [31:0] ram_wdata;
    wire [31:0] ram_rdata;
    wire        tx_valid, tx_ready, tx_busy, rx_valid, rx_ready, trap, exit_valid;
    wire [7:0]  tx_data, rx_data;
    wire [15:0] exit_code;

    // the RAM of the RTL simulation (fpga/rtl/eh_ram.v): yosys maps it to DP16KD block RAM
    eh_ram #(.ADDR_BITS(RAM_ADDR_BITS)) ram (
        .clk(clk_25mhz), .en(ram_en), .we(ram_we), .addr(ram_addr), .wdata(ram_wdata), .rdata(ram_rdata)
    );

    eh_soc #(.RAM_ADDR_BITS(RAM_ADDR_BITS), .WITH_CFU(1), .FAST_MUL(1), .WITH_DIV(1), .SMALL(0),
             .BOOTROM_WORDS(256), .BOOTROM_HEX(BOOTROM_HEX), .RESET_ADDR(32'h0000_0000)) soc (
        .clk(clk_25mhz), .resetn(resetn), .cfu_enable(1'b1),
        .ram_en(ram_en), .ram_we(ram_we), .ram_addr(ram_addr), .ram_wdata(ram_wdata),
        .ram_rdata(ram_rdata),
        .tx_valid(tx_valid), .tx_data(tx_data), .tx_ready(tx_ready), .tx_busy(tx_busy),
        .rx_valid(rx_valid), .rx_data(rx_data), .rx_ready(rx_ready), .uart_divisor(),
        .exit_valid(exit_valid), .exit_code(exit_code), .trap(trap)
    );

    eh_uart_phy #(.CLKS_PER_BIT(CLKS_PER_BIT)) phy (
        .clk(clk_25mhz), .resetn(resetn), .txd(ftdi_rxd), .rxd(ftdi_txd),
        .tx_valid(tx_valid), .tx_data(tx_data), .tx_ready(tx_ready), .tx_busy(tx_busy),
        .rx_valid(rx_valid), .rx_data(rx_data), .rx_ready(rx_ready)
    );

    reg trapped = 0;
    always @(posedge clk_25mhz) if (trap) trapped <= 1'b1;
    assign led = {trapped, 6'b0, resetn && !trapped};
    assign wifi_gpio0 = 1'b1;
    // verilator lint_off UNUSED
    wire unused = &{1'b0, exit_valid, exit_code, btn[6:1]};
    // verilator lint_on UNUSED
endmodule
`default_nettype wire
